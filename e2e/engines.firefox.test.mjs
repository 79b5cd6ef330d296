// The three-engine smoke suite (./engines/suite.mjs) in Firefox ESR.
import { engineSuite } from './engines/suite.mjs';
import { firefox } from './engines/firefox.mjs';

engineSuite(firefox);
