// Re-export pure tfjs so danfojs-node works without libtensorflow.
// The marker lets src/backend tell this stub from a real tfjs-node install.
module.exports = Object.assign({}, require('@tensorflow/tfjs'), { __marlAutomlStub: true });
