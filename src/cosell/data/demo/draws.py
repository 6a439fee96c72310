"""Random draws that give the same bits on every machine.

NumPy's own distributions and transcendental ufuncs are not bit-reproducible across machines:
``np.exp`` and ``np.log`` take a different SIMD path on a CPU with AVX-512 than on one without,
``np.argpartition`` returns its indices in an order that depends on the sorting kernel the CPU
selects, and ``Generator.normal``, ``poisson``, ``beta``... call the C library's ``exp``, ``log``
and ``pow``, whose last bit differs between libm builds. One different bit in a demo deal's cycle
moved a tie, reordered the random draws after it, and planted the hygiene failures on other deals
(the 1,200-deal test passed on one machine and failed on another).

Everything here is built from the generator's raw uniform doubles and integers (exact on every
machine) and from IEEE 754 operations that are correctly rounded everywhere (``+ - * /``, ``sqrt``,
``floor``, ``rint``, ``frexp``, ``ldexp``), each a separate NumPy operation, so that no compiler can
fuse two roundings into one. The functions are accurate to a few units in the last place, which is
more than a demo needs; what matters is that they are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

_LN2_HI = 6.93147180369123816490e-01  # ln 2 split so that k * _LN2_HI is exact for |k| < 2**20
_LN2_LO = 1.90821492927058770002e-10
_LN2 = 0.6931471805599453
_SQRT_HALF = 0.7071067811865476
_EXP_TERMS = 18  # Taylor terms of exp(r) for |r| <= ln(2) / 2: the last is below 2**-60
_LOG_TERMS = 12  # atanh series terms of log(m) for m in [sqrt(1/2), sqrt(2)): below 2**-60


def exp(x: np.ndarray | float) -> np.ndarray:
    """e**x, elementwise (x below about 709)."""
    x = np.asarray(x, dtype=np.float64)
    k = np.rint(x / _LN2)
    r = (x - k * _LN2_HI) - k * _LN2_LO
    p = np.ones_like(r)
    for n in range(_EXP_TERMS, 0, -1):  # Horner: 1 + r/1 (1 + r/2 (1 + r/3 (...)))
        p = 1.0 + (r / n) * p
    result: np.ndarray = np.ldexp(p, k.astype(np.int32))
    return result


def log(x: np.ndarray | float) -> np.ndarray:
    """The natural logarithm, elementwise (x > 0)."""
    x = np.asarray(x, dtype=np.float64)
    m, e = np.frexp(x)  # x = m * 2**e, m in [0.5, 1)
    low = m < _SQRT_HALF
    m = np.where(low, m * 2.0, m)
    e = np.where(low, e - 1, e)
    s = (m - 1.0) / (m + 1.0)  # log m = 2 atanh s = 2 (s + s**3/3 + s**5/5 + ...)
    z = s * s
    p = np.zeros_like(s)
    for n in range(_LOG_TERMS - 1, -1, -1):
        p = 1.0 / (2 * n + 1) + z * p
    result: np.ndarray = (2.0 * s) * p + e * _LN2
    return result


class Draws:
    """A seeded source of random draws, the same on every machine.

    The method names and arguments follow :class:`numpy.random.Generator` for the draws the demo
    makes, so a generator reads like ordinary NumPy code.
    """

    def __init__(self, generator: np.random.Generator) -> None:
        self._rng = generator

    def random(self, size: int | tuple[int, ...] | None = None) -> np.ndarray:
        """Uniform doubles in [0, 1) (the generator's 53 random bits: exact everywhere)."""
        return np.asarray(self._rng.random(size))

    def integers(self, low: int | np.ndarray, high: int | np.ndarray, size: int | None = None) -> np.ndarray:
        """Integers in [low, high)."""
        return np.asarray(self._rng.integers(low, high, size))

    def permutation(self, n: int) -> np.ndarray:
        return np.asarray(self._rng.permutation(n))

    def uniform(
        self, low: float | np.ndarray, high: float | np.ndarray, size: int | tuple[int, ...] | None = None
    ) -> np.ndarray:
        """Uniform doubles in [low, high)."""
        low_ = np.asarray(low, dtype=np.float64)
        drawn: np.ndarray = low_ + (np.asarray(high, dtype=np.float64) - low_) * self.random(size)
        return drawn

    def choice(
        self,
        options: int | Sequence[object] | np.ndarray,
        size: int | None = None,
        p: Sequence[float] | np.ndarray | None = None,
        replace: bool = True,
    ) -> np.ndarray:
        """Draw from ``options`` (an int n means ``range(n)``), with probabilities ``p`` if given."""
        values = np.arange(options) if isinstance(options, int | np.integer) else np.asarray(options)
        if not replace:
            if p is not None or size is None or size > len(values):
                raise ValueError("choice without replacement takes no p and at most len(options)")
            sample: np.ndarray = values[self.permutation(len(values))[:size]]
            return sample
        count = 1 if size is None else size
        if p is None:
            picked = values[self.integers(0, len(values), count)]
        else:
            cdf = np.cumsum(np.asarray(p, dtype=np.float64))  # a sequential sum: the same everywhere
            picked = values[
                np.minimum(np.searchsorted(cdf / cdf[-1], self.random(count), "right"), len(cdf) - 1)
            ]
        return np.asarray(picked[0]) if size is None else np.asarray(picked)  # one draw: a 0-d array

    def exponential(self, scale: float | np.ndarray, size: int | tuple[int, ...]) -> np.ndarray:
        drawn: np.ndarray = -np.asarray(scale, dtype=np.float64) * log(1.0 - self.random(size))
        return drawn

    def normal(self, mean: float, sigma: float, size: int | None = None) -> np.ndarray:
        """Normal draws by Marsaglia's polar method (no trigonometry)."""
        count = 1 if size is None else size
        out = np.empty(0)
        while len(out) < count:
            need = count - len(out)
            u = 2.0 * self.random(need) - 1.0
            v = 2.0 * self.random(need) - 1.0
            s = u * u + v * v
            ok = (s > 0.0) & (s < 1.0)
            u, v, s = u[ok], v[ok], s[ok]
            factor = np.sqrt(-2.0 * log(s) / s)
            out = np.concatenate([out, u * factor, v * factor])
        drawn: np.ndarray = mean + sigma * out[:count]
        return drawn.reshape(()) if size is None else drawn

    def lognormal(self, mean: float, sigma: float, size: int) -> np.ndarray:
        return exp(self.normal(mean, sigma, size))

    def poisson(self, lam: float | np.ndarray, size: int | tuple[int, ...] | None = None) -> np.ndarray:
        """Poisson counts by Knuth's product of uniforms (the demo's rates are small)."""
        lam = np.asarray(lam, dtype=np.float64)
        shape = lam.shape if size is None else (size if isinstance(size, tuple) else (size,))
        limit = np.broadcast_to(exp(-lam), shape)
        product = self.random(shape) if shape else np.asarray(self.random())
        count = np.zeros(shape, dtype=np.int64)
        active = product > limit
        while active.any():
            count += active
            product = np.where(active, product * self.random(shape), product)
            active = product > limit
        return count

    def gamma(self, shape: float, size: int) -> np.ndarray:
        """Gamma(shape, 1) draws for shape >= 1 by Marsaglia and Tsang's method."""
        if shape < 1.0:
            raise ValueError("gamma draws need shape >= 1")
        d = shape - 1.0 / 3.0
        c = 1.0 / np.sqrt(9.0 * d)
        out = np.empty(0)
        while len(out) < size:
            need = size - len(out)
            x = self.normal(0.0, 1.0, need)
            u = self.random(need)
            v = 1.0 + c * x
            v = v * v * v
            positive = v > 0.0
            safe_v = np.where(positive, v, 1.0)
            accept = positive & (log(1.0 - u) < 0.5 * x * x + d - d * safe_v + d * log(safe_v))
            out = np.concatenate([out, d * v[accept]])
        return out[:size]

    def beta(self, a: float, b: float, size: int) -> np.ndarray:
        x, y = self.gamma(a, size), self.gamma(b, size)
        drawn: np.ndarray = x / (x + y)
        return drawn

    def dirichlet(self, alpha: Sequence[float] | np.ndarray, size: int) -> np.ndarray:
        columns = np.stack([self.gamma(float(a), size) for a in alpha], axis=1)
        total = columns[:, 0].copy()
        for j in range(1, columns.shape[1]):  # a fixed left-to-right sum, not a SIMD reduction
            total = total + columns[:, j]
        result: np.ndarray = columns / total[:, None]
        return result


def smallest(values: np.ndarray, count: int) -> np.ndarray:
    """Indices of the ``count`` smallest values, smallest first, ties by index (a stable sort:
    ``np.argpartition`` returns them in an order that depends on the CPU's sorting kernel)."""
    order: np.ndarray = np.argsort(values, kind="stable")[:count]
    return order
