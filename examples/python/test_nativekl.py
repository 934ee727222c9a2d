"""Tests of nativekl.py, run by ctest with each python3 found (examples/CMakeLists.txt):
    NATIVEKL_LIBRARY=build/libnativekl.so python3 -m unittest -v test_nativekl
The numpy tests run where numpy is installed and are skipped elsewhere; the example itself is
also run with numpy hidden, so the path without numpy is tested on every interpreter."""

import array
import math
import struct
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
import warnings

import nativekl

HERE = os.path.dirname(os.path.abspath(__file__))
LOGITS = [[0.5, 1.0, 0.8], [0.2, 0.4, 0.6]]
TARGET = [[0.3, 0.4, 0.3], [0.1, 0.5, 0.4]]
F32 = 2.0 ** -23


def sum_tolerance(terms):
    """What a float32 sum of these terms may be off by: a few float32 ulps of each
    term (the vector log and exp are within 2 ulp), so 4 eps times the sum of |term|."""
    return 4 * F32 * math.fsum(abs(v) for v in terms)


def log_softmax(rows):
    out = []
    for row in rows:
        top = max(row)
        total = sum(math.exp(v - top) for v in row)
        out.append([v - top - math.log(total) for v in row])
    return out


def reference_terms(x, t, log_target=False, masked=False):
    """The pointwise terms, in double precision, straight from PyTorch's formula."""
    terms = []
    for xi, ti in zip(x, t):
        if masked and (ti == 0 or (log_target and ti == -math.inf)):
            terms.append(0.0)
        elif log_target:
            terms.append(math.exp(ti) * (ti - xi))
        else:
            terms.append((ti * math.log(ti) if ti > 0 else 0.0) - ti * xi)
    return terms


def flat(rows):
    return [v for row in rows for v in row]


def as_f32(values):
    return list(array.array("f", values))


INPUT = log_softmax(LOGITS)


class SeedExample(unittest.TestCase):
    def run_example(self, hide_numpy):
        prelude = "import sys; sys.modules['numpy'] = None; " if hide_numpy else ""
        code = prelude + "import runpy, sys; runpy.run_path(sys.argv[1], run_name='__main__')"
        result = subprocess.run([sys.executable, "-c", code, os.path.join(HERE, "nativekl.py")],
                                capture_output=True, text=True, timeout=60)
        self.assertEqual(result.returncode, 0, result.stderr)
        for line in ("sum        0.115592", "batchmean  0.057796", "mean       0.019265",
                     "per row    0.007039, 0.108553"):
            self.assertIn(line, result.stdout)
        return result.stdout

    def test_example_without_numpy(self):
        self.assertIn("data as lists (numpy not installed)", self.run_example(hide_numpy=True))

    @unittest.skipIf(nativekl._np is None, "numpy is not installed")
    def test_example_with_numpy(self):
        self.assertIn("data as numpy arrays", self.run_example(hide_numpy=False))


class Lists(unittest.TestCase):
    def test_reductions_match_the_formula(self):
        x, t = as_f32(flat(INPUT)), as_f32(flat(TARGET))
        terms = reference_terms(x, t)
        total = math.fsum(terms)
        for reduction, divisor in (("sum", 1), ("batchmean", 2), ("mean", 6)):
            got = nativekl.kl_div(INPUT, TARGET, reduction)
            self.assertAlmostEqual(got, total / divisor, delta=sum_tolerance(terms) / divisor)
        self.assertAlmostEqual(nativekl.kl_div(INPUT, TARGET, "batchmean"), 0.0577962, delta=1e-7)

    def test_flat_lists_take_their_length_as_batch(self):
        x, t = flat(INPUT), flat(TARGET)
        self.assertEqual(nativekl.kl_div(x, t, "batchmean"), nativekl.kl_div(x, t, "mean"))
        self.assertEqual(nativekl.kl_div(x, t, "batchmean", batch=2), nativekl.kl_div(INPUT, TARGET, "batchmean"))

    def test_none_keeps_the_rows(self):
        terms = nativekl.kl_div(INPUT, TARGET, "none")
        self.assertEqual(len(terms), 2)
        expected = reference_terms(as_f32(flat(INPUT)), as_f32(flat(TARGET)))
        for got, want in zip(flat(terms), expected):
            self.assertAlmostEqual(got, want, delta=2 * F32)

    def test_log_target_and_masked(self):
        x, t = flat(INPUT), [math.log(v) for v in flat(TARGET)]
        terms = reference_terms(as_f32(x), as_f32(t), log_target=True)
        self.assertAlmostEqual(nativekl.kl_div(x, t, "sum", log_target=True), math.fsum(terms),
                               delta=sum_tolerance(terms))
        x_masked, t_zero = [-math.inf] + x[1:], [0.0] + flat(TARGET)[1:]
        self.assertTrue(math.isnan(nativekl.kl_div(x_masked, t_zero, "sum")))  # PyTorch: 0 * -inf
        terms = reference_terms(as_f32(x_masked), as_f32(t_zero), masked=True)
        self.assertAlmostEqual(nativekl.kl_div(x_masked, t_zero, "sum", masked=True), math.fsum(terms),
                               delta=sum_tolerance(terms))

    def test_float64(self):
        x, t = flat(INPUT), flat(TARGET)
        want = math.fsum(reference_terms(x, t))
        self.assertAlmostEqual(nativekl.kl_div(x, t, "sum", dtype="f64"), want, delta=1e-15)

    def test_rows_and_backward(self):
        per_row = nativekl.kl_div_rows(INPUT, TARGET)
        self.assertAlmostEqual(sum(per_row) / 2, nativekl.kl_div(INPUT, TARGET, "batchmean"), delta=1e-7)
        value, grad_input, grad_target = nativekl.kl_div_backward(INPUT, TARGET, "batchmean")
        self.assertEqual(value, nativekl.kl_div(INPUT, TARGET, "batchmean"))
        for got, t in zip(flat(grad_input), as_f32(flat(TARGET))):
            self.assertAlmostEqual(got, -t / 2, delta=F32)
        for got, x, t in zip(flat(grad_target), as_f32(flat(INPUT)), as_f32(flat(TARGET))):
            self.assertAlmostEqual(got, (math.log(t) + 1 - x) / 2, delta=8 * F32)

    def test_bad_arguments(self):
        with self.assertRaisesRegex(ValueError, r"input has shape \[6\] but target has shape \[5\]"):
            nativekl.kl_div(flat(INPUT), flat(TARGET)[:5])
        with self.assertRaisesRegex(ValueError, "reduction must be one of"):
            nativekl.kl_div(INPUT, TARGET, "average")
        with self.assertRaisesRegex(nativekl.NklError, "nkl_kl_div_f32: batchmean needs a batch size"):
            nativekl.kl_div(INPUT, TARGET, "batchmean", batch=4)
        with self.assertRaisesRegex(ValueError, "rows of different lengths"):
            nativekl.kl_div([[0.1, 0.2], [0.3]], [[0.1, 0.2], [0.3]])
        with self.assertRaisesRegex(ValueError, "float32 .'f'. or float64 .'d'. is needed"):
            nativekl.kl_div(array.array("i", [1, 2]), array.array("i", [1, 2]))
        with self.assertRaisesRegex(ValueError, "dtype must be"):
            nativekl.kl_div(INPUT, TARGET, dtype="f16")


class Shapes(unittest.TestCase):
    """Shapes are compared, not lengths, as PyTorch does; batchmean divides by dimension 0."""

    def test_same_length_other_shape_is_an_error(self):
        x23, t23 = INPUT, TARGET
        t32 = [[0.3, 0.4], [0.3, 0.1], [0.5, 0.4]]
        for x, t in ((x23, t32), (flat(x23), t23), (x23, flat(TARGET)), (array.array("f", flat(x23)), t23)):
            for call in (lambda: nativekl.kl_div(x, t, "batchmean"), lambda: nativekl.kl_div(x, t, "none"),
                         lambda: nativekl.kl_div_backward(x, t, "sum")):
                with self.assertRaisesRegex(ValueError, "input has shape .* but target has shape"):
                    call()
        with self.assertRaisesRegex(ValueError, "input has shape"):
            nativekl.kl_div_rows(x23, t32)

    def test_batchmean_divides_by_dimension_0_of_any_rank(self):
        x3 = [[row] for row in INPUT]   # [2, 1, 3]
        t3 = [[row] for row in TARGET]
        self.assertEqual(nativekl.kl_div(x3, t3, "batchmean"), nativekl.kl_div(INPUT, TARGET, "batchmean"))
        self.assertEqual(nativekl.kl_div(x3, t3, "sum") / 2, nativekl.kl_div(x3, t3, "batchmean"))
        terms = nativekl.kl_div(x3, t3, "none")  # the input's shape back
        self.assertEqual((len(terms), len(terms[0]), len(terms[0][0])), (2, 1, 3))
        self.assertEqual(flat([r[0] for r in terms]), flat(nativekl.kl_div(INPUT, TARGET, "none")))
        x_t = [[r[c] for r in INPUT] for c in range(3)]  # [3, 2]: batch 3
        t_t = [[r[c] for r in TARGET] for c in range(3)]
        self.assertAlmostEqual(nativekl.kl_div(x_t, t_t, "batchmean"), nativekl.kl_div(INPUT, TARGET, "sum") / 3,
                               delta=1e-7)
        with self.assertRaisesRegex(ValueError, "rows of different lengths"):
            nativekl.kl_div([[[0.1], [0.2]], [[0.3]]], [[[0.1], [0.2]], [[0.3]]])
        with self.assertRaisesRegex(ValueError, "rows of different lengths"):
            nativekl.kl_div([[0.1, 0.2], 0.3], [[0.1, 0.2], 0.3])

    def test_complex_values_are_an_error(self):
        with self.assertRaisesRegex(ValueError, "input: complex values"):
            nativekl.kl_div([-1 + 0j, -2.0], [0.5, 0.5])
        with self.assertRaisesRegex(ValueError, "target: complex values"):
            nativekl.kl_div([[-1.0, -2.0]], [[0.5, 0.5 + 1j]])

    @unittest.skipIf(nativekl._np is None, "numpy is not installed")
    def test_numpy_shapes_and_complex(self):
        np = nativekl._np
        x, t = np.array(INPUT, dtype=np.float32), np.array(TARGET, dtype=np.float32)
        with self.assertRaisesRegex(ValueError, r"input has shape \[2, 3\] but target has shape \[3, 2\]"):
            nativekl.kl_div(x, t.reshape(3, 2), "batchmean")
        with self.assertRaisesRegex(ValueError, r"input has shape \[6\] but target has shape \[2, 3\]"):
            nativekl.kl_div(x.reshape(6), t, "sum")
        self.assertEqual(nativekl.kl_div(x.reshape(2, 1, 3), t.reshape(2, 1, 3), "batchmean"),
                         nativekl.kl_div(x, t, "batchmean"))
        self.assertEqual(nativekl.kl_div(x.reshape(2, 1, 3), t.reshape(2, 1, 3), "none").shape, (2, 1, 3))
        with warnings.catch_warnings():
            warnings.simplefilter("error")  # not numpy's ComplexWarning, and no result: an error
            for bad in (x.astype(np.complex64), x.astype(np.complex128)):
                with self.assertRaisesRegex(ValueError, "input: complex values"):
                    nativekl.kl_div(bad, t, "sum")
                with self.assertRaisesRegex(ValueError, "target: complex values"):
                    nativekl.kl_div(x, bad, "sum")


class Library(unittest.TestCase):
    """NATIVEKL_LIBRARY names the one file to load: a file that is missing, not a shared library, or
    not libnativekl fails the import, even with a good library beside the module."""

    def import_with(self, library):
        with tempfile.TemporaryDirectory() as folder:
            shutil.copy(os.path.join(HERE, "nativekl.py"), folder)
            shutil.copy(nativekl.library_path, os.path.join(folder, "libnativekl.so"))  # a good copy beside it
            environment = dict(os.environ, NATIVEKL_LIBRARY=library, PYTHONDONTWRITEBYTECODE="1")
            return subprocess.run([sys.executable, "-c", "import nativekl; print(nativekl.library_path)"],
                                  cwd=folder, env=environment, capture_output=True, text=True, timeout=60)

    def assert_fails_loudly(self, library, reason):
        result = self.import_with(library)
        self.assertNotEqual(result.returncode, 0, f"imported {result.stdout.strip()} instead of failing")
        self.assertRegex(result.stderr, "OSError: NATIVEKL_LIBRARY=" + ".*" + reason)
        self.assertIn(library, result.stderr)

    def test_the_file_name_per_platform(self):
        # never nativekl.dll: that is the managed NativeKl.dll on a case-insensitive file system
        self.assertEqual(nativekl._library_file_name("Windows"), "libnativekl.dll")
        self.assertEqual(nativekl._library_file_name("Linux"), "libnativekl.so")
        self.assertEqual(nativekl._library_file_name("Darwin"), "libnativekl.dylib")
        for system in ("Windows", "Linux", "Darwin"):
            self.assertNotEqual(nativekl._library_file_name(system).lower(), "nativekl.dll")

    def test_a_missing_file(self):
        self.assert_fails_loudly("/nonexistent/libnativekl.so", "no such file")

    def test_a_file_that_is_not_a_library(self):
        self.assert_fails_loudly(os.path.join(HERE, "test_nativekl.py"), "could not be loaded")

    def test_a_library_that_is_not_libnativekl(self):
        self.assert_fails_loudly(sys.executable, "could not be loaded")  # an executable, or no nkl_ symbols

    def test_the_named_library_is_the_one_loaded(self):
        result = self.import_with(nativekl.library_path)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.strip(), nativekl.library_path)


class Distill(unittest.TestCase):
    """Distillation from logits against a plain-Python log_softmax/softmax composite."""

    @staticmethod
    def reference(s, u, T, t2):
        total = 0.0
        for srow, urow in zip(s, u):
            a = [v / T for v in srow]
            b = [v / T for v in urow]
            la = max(a) + math.log(sum(math.exp(v - max(a)) for v in a))
            lb = max(b) + math.log(sum(math.exp(v - max(b)) for v in b))
            total += sum(math.exp(y - lb) * ((y - lb) - (x - la)) for x, y in zip(a, b))
        return total / len(s) * (T * T if t2 else 1)

    S = [[1.0, -2.0, 0.5, 3.0], [0.2, 0.1, -1.0, 2.5], [4.0, 1.0, -0.5, 0.0]]
    U = [[0.5, -1.0, 2.0, 1.0], [1.2, -0.3, 0.4, 0.8], [3.0, 2.0, -2.0, 1.0]]

    def test_batchmean_with_temperature_and_t2(self):
        for T in (1.0, 2.0, 0.7):
            got = nativekl.distill(self.S, self.U, T, multiply_loss_by_t2=True, dtype="f64")
            self.assertAlmostEqual(got, self.reference(self.S, self.U, T, True), places=12)

    def test_rows_weights_and_backward(self):
        rows = nativekl.distill(self.S, self.U, 2.0, "none")
        self.assertEqual(len(rows), 3)
        self.assertAlmostEqual(sum(rows) / 3, nativekl.distill(self.S, self.U, 2.0), places=6)
        masked = nativekl.distill(self.S, self.U, 2.0, "batchmean", row_weights=[1.0, 0.0, 1.0], dtype="f64")
        keep = [self.S[0], self.S[2]], [self.U[0], self.U[2]]
        self.assertAlmostEqual(masked, self.reference(keep[0], keep[1], 2.0, False), places=12)
        value, gs, gu = nativekl.distill_backward(self.S, self.U, 2.0, dtype="f64")
        self.assertAlmostEqual(value, self.reference(self.S, self.U, 2.0, False), places=12)
        self.assertEqual((len(gs), len(gs[0]), len(gu), len(gu[0])), (3, 4, 3, 4))
        for r in range(3):  # the gradient of softmax logits sums to 0 over a row
            self.assertAlmostEqual(sum(gs[r]), 0.0, places=12)
            self.assertAlmostEqual(sum(gu[r]), 0.0, places=12)

    def test_pieces_give_the_one_call_bits(self):
        for dtype in ("f32", "f64"):
            for reduction in ("sum", "mean", "batchmean"):
                w = [1.0, 0.0, 2.5]
                one = nativekl.distill(self.S, self.U, 0.7, reduction, row_weights=w, dtype=dtype)
                parts = (nativekl.distill_partials(self.S, self.U, 0, 1, 0.7, row_weights=w, dtype=dtype)
                         + nativekl.distill_partials(self.S, self.U, 1, 2, 0.7, row_weights=w, dtype=dtype))
                self.assertEqual(parts[1], 0.0)  # an ignored row
                got = nativekl.distill_finish(parts, 4, 0.7, reduction, row_weights=w, dtype=dtype)
                self.assertEqual(struct.pack("d", got), struct.pack("d", one))
        with self.assertRaises(nativekl.NklError):  # past the last row
            nativekl.distill_partials(self.S, self.U, 2, 2)

    def test_bad_arguments(self):
        with self.assertRaises(nativekl.NklError):
            nativekl.distill(self.S, self.U, 0.0)
        with self.assertRaises(nativekl.NklError):
            nativekl.distill(self.S, self.U, 1.0, row_weights=[1.0, -1.0, 1.0])
        with self.assertRaises(ValueError):
            nativekl.distill(self.S, self.U[:2], 1.0)


class Arrays(unittest.TestCase):
    def test_array_in_place(self):
        x, t = array.array("f", flat(INPUT)), array.array("f", flat(TARGET))
        expected = nativekl.kl_div(list(x), list(t), "none")
        self.assertIs(nativekl.kl_div(x, t, "none", out=x), x)  # written where x lies
        self.assertEqual(list(x), expected)

    def test_out_must_be_writable_memory_of_the_dtype(self):
        x, t = array.array("f", flat(INPUT)), array.array("f", flat(TARGET))
        for bad in (array.array("d", flat(INPUT)), [0.0] * 6, array.array("f", [0.0] * 5), bytes(24)):
            with self.assertRaises(ValueError):
                nativekl.kl_div(x, t, "none", out=bad)

    def test_float64_arrays(self):
        x, t = array.array("d", flat(INPUT)), array.array("d", flat(TARGET))
        terms = nativekl.kl_div(x, t, "none")
        self.assertEqual(terms.typecode, "d")
        self.assertAlmostEqual(math.fsum(terms), nativekl.kl_div(x, t, "sum"), delta=1e-15)


@unittest.skipIf(nativekl._np is None, "numpy is not installed")
class Numpy(unittest.TestCase):
    def setUp(self):
        self.np = nativekl._np
        self.x = self.np.array(INPUT, dtype=self.np.float32)
        self.t = self.np.array(TARGET, dtype=self.np.float32)

    def test_zero_copy_for_contiguous_arrays(self):
        view = nativekl._Floats(self.x, "input")
        self.assertEqual(view.address, self.x.ctypes.data)
        strided = self.np.array([[1, 2, 3, 4, 5, 6]], dtype=self.np.float32)[:, ::2]
        self.assertNotEqual(nativekl._Floats(strided, "input").address, strided.ctypes.data)

    def test_batchmean_from_the_shape(self):
        self.assertAlmostEqual(nativekl.kl_div(self.x, self.t, "batchmean"), 0.0577962, delta=1e-7)
        self.assertEqual(nativekl.kl_div(self.x, self.t, "batchmean"),
                         nativekl.kl_div(flat(INPUT), flat(TARGET), "batchmean", batch=2))

    def test_none_in_place_and_shape(self):
        terms = nativekl.kl_div(self.x, self.t, "none")
        self.assertEqual((terms.shape, terms.dtype), ((2, 3), self.np.float32))
        self.assertIs(nativekl.kl_div(self.x, self.t, "none", out=self.x), self.x)
        self.assertTrue((self.x == terms).all())

    def test_float64_and_non_contiguous(self):
        x64, t64 = self.x.astype(self.np.float64), self.t.astype(self.np.float64)
        self.assertEqual(nativekl.kl_div_rows(x64, t64).dtype, self.np.float64)
        wide_x, wide_t = self.np.repeat(self.x, 2, axis=1), self.np.repeat(self.t, 2, axis=1)
        self.assertEqual(nativekl.kl_div(wide_x[:, ::2], wide_t[:, ::2], "sum"),
                         nativekl.kl_div(self.x, self.t, "sum"))

    def test_backward_shapes(self):
        value, grad_input, grad_target = nativekl.kl_div_backward(self.x, self.t, "sum", want_grad_target=False)
        self.assertIsNone(grad_target)
        self.assertTrue((grad_input == -self.t).all())


if __name__ == "__main__":
    unittest.main()
