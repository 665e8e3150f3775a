/* Small dense solvers (the ranker's per-user normal equations). */
#include <math.h>

#include "linalg.h"

int prism__linalg_cholesky(float *A, int n)
{
  for (int j = 0; j < n; j++) {
    double d = A[j * n + j];
    for (int k = 0; k < j; k++)
      d -= (double)A[j * n + k] * A[j * n + k];
    if (!(d > 0.0))
      return -1;
    float l = (float)sqrt(d);
    A[j * n + j] = l;
    for (int i = j + 1; i < n; i++) {
      double s = A[i * n + j];
      for (int k = 0; k < j; k++)
        s -= (double)A[i * n + k] * A[j * n + k];
      A[i * n + j] = (float)(s / l);
    }
  }
  return 0;
}

void prism__linalg_cholesky_solve(const float *L, int n, float *b)
{
  for (int i = 0; i < n; i++) {
    double s = b[i];
    for (int k = 0; k < i; k++)
      s -= (double)L[i * n + k] * b[k];
    b[i] = (float)(s / L[i * n + i]);
  }
  for (int i = n - 1; i >= 0; i--) {
    double s = b[i];
    for (int k = i + 1; k < n; k++)
      s -= (double)L[k * n + i] * b[k];
    b[i] = (float)(s / L[i * n + i]);
  }
}
