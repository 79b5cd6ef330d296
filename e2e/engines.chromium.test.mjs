// The three-engine smoke suite (./engines/suite.mjs) in Chromium.
import { engineSuite } from './engines/suite.mjs';
import { chromium } from './engines/chromium.mjs';

engineSuite(chromium);
