"""Dormand–Prince 5(4): the explicit Runge–Kutta pair behind DOPRI5 / ode45 / RK45.

Data only: the Butcher tableau, the error weights ``b - b_hat`` and the coefficients of
Shampine's 4th-order continuous extension in Hairer's form.

References
----------
J. R. Dormand and P. J. Prince, "A family of embedded Runge-Kutta formulae",
J. Comput. Appl. Math. 6 (1980) 19-26.
L. F. Shampine, "Some practical Runge-Kutta formulas", Math. Comp. 46 (1986) 135-150
(dense output); E. Hairer, S. P. Nørsett and G. Wanner, "Solving Ordinary Differential
Equations I", 2nd ed., Springer (1993), section II.6.
"""

import numpy as np

from .tableau import ExplicitRK, _rows

_B = [35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84]

A = _rows(7, [
    {},
    {0: 1 / 5},
    {0: 3 / 40, 1: 9 / 40},
    {0: 44 / 45, 1: -56 / 15, 2: 32 / 9},
    {0: 19372 / 6561, 1: -25360 / 2187, 2: 64448 / 6561, 3: -212 / 729},
    {0: 9017 / 3168, 1: -355 / 33, 2: 46732 / 5247, 3: 49 / 176, 4: -5103 / 18656},
    dict(enumerate(_B)),  # stage 6 is f(t + h, y_new)
])
C = np.array([0.0, 1 / 5, 3 / 10, 4 / 5, 8 / 9, 1.0, 1.0])
B = np.array(_B)
E5 = np.array([71 / 57600, 0.0, -71 / 16695, 71 / 1920, -17253 / 339200, 22 / 525, -1 / 40])
D = _rows(7, [{
    0: -12715105075 / 11282082432, 2: 87487479700 / 32700410799,
    3: -10690763975 / 1880347072, 4: 701980252875 / 199316789632,
    5: -1453857185 / 822651844, 6: 69997945 / 29380423,
}])

DOPRI5 = ExplicitRK(name="dopri5", A=A, c=C, b=B, e5=E5, e3=np.zeros(7), dense=D, error_order=4)
