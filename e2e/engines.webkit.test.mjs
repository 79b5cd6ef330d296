// The three-engine smoke suite (./engines/suite.mjs) in WebKitGTK (Safari's engine).
import { engineSuite } from './engines/suite.mjs';
import { webkit } from './engines/webkit.mjs';

engineSuite(webkit);
