import { strict as assert } from 'assert';
import { torchBlasLabel } from '../../src/bench/vectorised';

describe('bench/vectorised: the PyTorch reference row names its BLAS', () => {
  it('tells OpenBLAS, MKL and the slow netlib reference BLAS apart from the libraries torch loaded', () => {
    const lib = (p: string) => `/usr/lib/x86_64-linux-gnu/${p}`;
    assert.equal(
      torchBlasLabel({
        blasInfo: 'generic',
        blasLibraries: [lib('openblas-pthread/libblas.so.3'), lib('openblas-pthread/libopenblasp-r0.3.21.so')],
      }),
      'OpenBLAS (openblas-pthread)',
    );
    assert.equal(
      torchBlasLabel({ blasInfo: 'generic', blasLibraries: [lib('blas/libblas.so.3'), lib('lapack/liblapack.so.3')] }),
      'reference BLAS (netlib libblas3: slow)',
    );
    assert.equal(torchBlasLabel({ blasInfo: 'mkl', blasLibraries: [lib('libmkl_rt.so.2')] }), 'MKL');
    assert.equal(torchBlasLabel({ blasInfo: 'generic', blasLibraries: [] }), 'BLAS_INFO=generic');
  });
});
