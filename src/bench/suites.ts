/**
 * Imports every benchmark suite so it registers itself. Add one line per new suite module.
 */
import './training';
import './runtime';
import './queue';
import './marl';
import './ganno';
import './ma2ml';
import './vectorised';
import './optimizers';
