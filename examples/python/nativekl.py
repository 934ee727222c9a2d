"""nativekl.py - libnativekl from Python through ctypes; the standard library is enough.

    import nativekl
    nativekl.kl_div(log_probs, targets, "batchmean")     # torch.nn.functional.kl_div, exactly

Arguments may be lists (flat, or nested to any depth with equally long rows), array.array('f' or
'd'), any buffer of float32/float64, or numpy arrays when numpy is installed. A C-contiguous numpy array or a
writable array.array of the right type is passed to C as it is (zero copy); anything else is
copied once into a ctypes array. Results of reduction "none" come back as the input's kind:
a numpy array of the input's shape, an array.array, or a list (nested as the input was).

The library is $NATIVEKL_LIBRARY when that is set: that file and no other (a build under test),
and importing fails with OSError if it does not load. Otherwise it is found beside this file, then
on the system's search path (ctypes.util.find_library). nativekl.h is the manual: semantics, flags,
errors.

input and target must have the same shape (PyTorch raises for shapes that do not broadcast;
broadcasting is not supported here); "batchmean" divides by dimension 0 of that shape. Complex
numbers are refused (ValueError), as PyTorch refuses them.
To bind a new C function, add its signature to _SIGNATURES and a wrapper.
"""

import array
import ctypes
import ctypes.util
import math
import os
import platform
import sys

try:
    import numpy as _np
except ImportError:
    _np = None

__all__ = ["kl_div", "kl_div_rows", "kl_div_backward", "distill", "distill_backward", "distill_partials",
           "distill_finish", "NklError", "version",
           "active_isa", "library_path"]

_REDUCTIONS = {"none": 0, "sum": 1, "mean": 2, "batchmean": 3}
_LOG_TARGET, _MASKED = 0x1, 0x2
_TEACHER_LOG_PROBS_AS_GIVEN, _MULTIPLY_LOSS_BY_T2 = 0x4, 0x8
_P, _N, _U32 = ctypes.c_void_p, ctypes.c_size_t, ctypes.c_uint32


class _DistillDesc(ctypes.Structure):
    """nkl_distill_desc."""
    _fields_ = [("rows", _N), ("cols", _N), ("student_stride", _N), ("teacher_stride", _N),
                ("temperature", ctypes.c_double), ("reduction", ctypes.c_int32), ("flags", _U32)]


# name: (result type, argument types) - one line per C function.
_SIGNATURES = {
    "nkl_version_string": (ctypes.c_char_p, []),
    "nkl_status_string": (ctypes.c_char_p, [ctypes.c_int]),
    "nkl_active_isa": (ctypes.c_int, []),
    "nkl_isa_name": (ctypes.c_char_p, [ctypes.c_int]),
    "nkl_kl_div_f32": (ctypes.c_int, [_P, _P, _N, ctypes.c_int, _N, _U32, _P]),
    "nkl_kl_div_f64": (ctypes.c_int, [_P, _P, _N, ctypes.c_int, _N, _U32, _P]),
    "nkl_kl_div_pointwise_f32": (ctypes.c_int, [_P, _P, _N, _U32, _P]),
    "nkl_kl_div_pointwise_f64": (ctypes.c_int, [_P, _P, _N, _U32, _P]),
    "nkl_kl_div_rows_f32": (ctypes.c_int, [_P, _N, _P, _N, _N, _N, _U32, _P]),
    "nkl_kl_div_rows_f64": (ctypes.c_int, [_P, _N, _P, _N, _N, _N, _U32, _P]),
    "nkl_kl_div_backward_f32": (ctypes.c_int, [_P, _P, _N, ctypes.c_int, _N, _U32, ctypes.c_float, _P, _P, _P]),
    "nkl_kl_div_backward_f64": (ctypes.c_int, [_P, _P, _N, ctypes.c_int, _N, _U32, ctypes.c_double, _P, _P, _P]),
    "nkl_distill_rows_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _P]),
    "nkl_distill_rows_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _P]),
    "nkl_distill_rows_backward_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, ctypes.c_float, _P,
                                                     _P, _N, _P, _N]),
    "nkl_distill_rows_backward_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, ctypes.c_double, _P,
                                                     _P, _N, _P, _N]),
    "nkl_distill_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _P]),
    "nkl_distill_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _P]),
    "nkl_distill_backward_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, ctypes.c_float, _P,
                                                _P, _N, _P, _N]),
    "nkl_distill_backward_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, ctypes.c_double, _P,
                                                _P, _N, _P, _N]),
    "nkl_distill_partials_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _N, _N, _P]),
    "nkl_distill_partials_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P, _N, _N, _P]),
    "nkl_distill_finish_f32": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P]),
    "nkl_distill_finish_f64": (ctypes.c_int, [ctypes.POINTER(_DistillDesc), _P, _P, _P]),
}


class NklError(ValueError):
    """A libnativekl call returned a status other than NKL_OK."""

    def __init__(self, function, status):
        super().__init__(f"{function}: {_lib.nkl_status_string(status).decode()} (status {status})")
        self.status = status


def _library_file_name(system=None):
    """The native library's file name on `system` (platform.system()'s words; default: this one):
    libnativekl.dll on Windows (the lib prefix keeps it apart from the managed NativeKl.dll on a
    case-insensitive file system), libnativekl.dylib on macOS, libnativekl.so elsewhere."""
    system = system or platform.system()
    if system == "Windows" or system.startswith(("CYGWIN", "MSYS", "MINGW")):
        return "libnativekl.dll"
    return "libnativekl.dylib" if system == "Darwin" else "libnativekl.so"


def _find_library():
    file_name = _library_file_name()
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), file_name)
    # find_library takes the name without prefix and suffix on Unix ("nativekl" finds
    # libnativekl.so), the file's own stem on Windows ("libnativekl" finds libnativekl.dll).
    for candidate in (here, ctypes.util.find_library(os.path.splitext(file_name)[0] if os.name == "nt" else "nativekl")):
        if candidate and (os.path.exists(candidate) or not os.path.isabs(candidate)):
            return candidate
    raise OSError("libnativekl not found: set NATIVEKL_LIBRARY to its path, or install it "
                  "(cmake --install) where the system finds shared libraries")


def _load():
    """The library and its path. $NATIVEKL_LIBRARY names the one file to load: whoever sets it tests
    that build, so a file that is missing, is not a shared library (or not this architecture's),
    or is not libnativekl fails loudly, never falling back to another copy."""
    explicit = os.environ.get("NATIVEKL_LIBRARY")
    path = explicit if explicit else _find_library()
    try:
        if explicit and os.path.isabs(explicit) and not os.path.exists(explicit):
            raise OSError("no such file")
        lib = ctypes.CDLL(path)
        for name, (result, arguments) in _SIGNATURES.items():
            function = getattr(lib, name)
            function.restype, function.argtypes = result, arguments
    except (OSError, AttributeError) as e:
        if not explicit:
            raise
        raise OSError(f"NATIVEKL_LIBRARY={explicit} could not be loaded as libnativekl: {e}. Unset "
                      "NATIVEKL_LIBRARY to use the library found beside nativekl.py or on the system's path") from e
    return lib, path


_lib, library_path = _load()


def version():
    """The loaded library's version, "major.minor.patch"."""
    return _lib.nkl_version_string().decode()


def active_isa():
    """The instruction set the library runs on: "avx2" or "scalar"."""
    return _lib.nkl_isa_name(_lib.nkl_active_isa()).decode()


# ------------------------------------------------------------------ buffers

_FORMATS = {"f": "f32", "d": "f64"}  # memoryview formats

class _Floats:
    """A float32/float64 view of an argument for C: its address, length, shape and rows; whether C
    works on the caller's own memory (in_place); how to give back a result of the same kind. It
    holds whatever must stay alive while C reads the memory."""

    def __init__(self, value, name, dtype=None):
        if _np is not None and isinstance(value, _np.ndarray):
            if _np.iscomplexobj(value):
                raise ValueError(f"{name}: complex values ({value.dtype}) are not supported")
            self.kind, self.shape = "numpy", value.shape
            self.dtype = dtype or ("f64" if value.dtype == _np.float64 else "f32")
            self.keep = _np.ascontiguousarray(value, dtype=_np.float64 if self.dtype == "f64" else _np.float32)
            self.in_place = self.keep is value and value.flags.writeable
            self.address, self.length = self.keep.ctypes.data, self.keep.size
        else:
            if isinstance(value, (list, tuple)):
                self.kind = "list"
                flat, self.shape = _flatten(value, name)
                self.dtype = dtype or "f32"  # as torch.tensor(list) gives float32
                self.in_place = False
            else:
                view = memoryview(value)
                if view.format not in _FORMATS:
                    raise ValueError(f"{name}: a buffer of float32 ('f') or float64 ('d') is needed, "
                                     f"not format '{view.format}'")
                self.kind = "array" if isinstance(value, array.array) else "buffer"
                self.shape = view.shape
                self.dtype = dtype or _FORMATS[view.format]
                self.in_place = _FORMATS[view.format] == self.dtype and view.c_contiguous and not view.readonly
                flat = memoryview(view.tobytes()).cast(view.format) if not self.in_place else None
            count = len(flat) if flat is not None else view.nbytes // view.itemsize
            array_type = _ctype(self.dtype) * count
            self.keep = array_type.from_buffer(view) if self.in_place else array_type(*flat)
            self.address, self.length = ctypes.addressof(self.keep), count
        self.rows = self.shape[0] if self.shape else 1

    def new_like(self):
        """A zeroed result of this argument's kind and shape, and its _Floats view."""
        if self.kind == "numpy":
            result = _np.zeros(self.shape, dtype=_np.float64 if self.dtype == "f64" else _np.float32)
        else:
            result = array.array("d" if self.dtype == "f64" else "f", bytes(self.length * _size(self.dtype)))
        return result, _Floats(result, "out", self.dtype)

    def give_back(self, result):
        """result (from new_like) as this argument's kind: lists come back as lists."""
        if self.kind != "list":
            return result
        return _nest(result.tolist(), self.shape)


def _flatten(value, name):
    """A flat list and the shape of nested lists (or tuples) of numbers, each level equally long."""
    if len(value) > 0 and isinstance(value[0], (list, tuple)):
        if not all(isinstance(row, (list, tuple)) for row in value):
            raise ValueError(f"{name}: rows of different lengths")
        parts = [_flatten(row, name) for row in value]
        inner = parts[0][1]
        if any(shape != inner for _, shape in parts):
            raise ValueError(f"{name}: rows of different lengths")
        return [v for flat, _ in parts for v in flat], (len(value),) + inner
    for v in value:
        if isinstance(v, complex):
            raise ValueError(f"{name}: complex values are not supported")
        if isinstance(v, (list, tuple)):
            raise ValueError(f"{name}: rows of different lengths")
    return list(value), (len(value),)


def _nest(values, shape):
    """A flat list as nested lists of the given shape (the inverse of _flatten)."""
    if len(shape) <= 1:
        return values
    step = len(values) // shape[0] if shape[0] else 0
    return [_nest(values[r * step:(r + 1) * step], shape[1:]) for r in range(shape[0])]


def _ctype(dtype):
    return ctypes.c_double if dtype == "f64" else ctypes.c_float


def _size(dtype):
    return 8 if dtype == "f64" else 4


def _pair(input, target, dtype):
    if dtype not in (None, "f32", "f64"):
        raise ValueError(f"dtype must be 'f32' or 'f64', not {dtype!r}")
    x = _Floats(input, "input", dtype)
    t = _Floats(target, "target", x.dtype)
    if tuple(x.shape) != tuple(t.shape):
        raise ValueError(f"input has shape {list(x.shape)} but target has shape {list(t.shape)}: "
                         "they must be the same (broadcasting is not supported)")
    return x, t


def _flags(log_target, masked):
    return (_LOG_TARGET if log_target else 0) | (_MASKED if masked else 0)


def _call(name, dtype, *arguments):
    function = name + ("_f64" if dtype == "f64" else "_f32")
    status = getattr(_lib, function)(*arguments)
    if status != 0:
        raise NklError(function, status)


# ------------------------------------------------------------------ functions

def kl_div(input, target, reduction="mean", *, batch=None, log_target=False, masked=False,
           dtype=None, out=None):
    """torch.nn.functional.kl_div(input, target, reduction, log_target).

    reduction: "none", "sum", "mean" (PyTorch's default) or "batchmean" (sum / batch, where
    batch is the size of dimension 0: the input's rows, or len() of a flat input; pass batch
    to override). masked: a zero-probability target contributes exactly 0. dtype: "f32" or
    "f64" (default: the input's; float32 for lists). "none" returns one value per element,
    written into out when given (a writable float buffer of the input's dtype and length,
    which may be the input itself)."""
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(_REDUCTIONS)}, not {reduction!r}")
    x, t = _pair(input, target, dtype)
    flags = _flags(log_target, masked)
    if reduction == "none":
        if out is None:
            result, view = x.new_like()
        else:
            result, view = out, _Floats(out, "out", x.dtype)
            if not view.in_place or view.length != x.length:
                raise ValueError(f"out must be a writable, C-contiguous {x.dtype} buffer of {x.length} values")
        _call("nkl_kl_div_pointwise", x.dtype, x.address, t.address, x.length, flags, view.address)
        return x.give_back(result) if out is None else out
    value = _ctype(x.dtype)()
    rows = x.rows if batch is None else batch
    _call("nkl_kl_div", x.dtype, x.address, t.address, x.length, _REDUCTIONS[reduction], rows, flags,
          ctypes.addressof(value))
    return value.value


def kl_div_rows(input, target, *, log_target=False, masked=False, dtype=None):
    """One KL (a sum) per row of [rows, cols] data: a numpy array's shape, or a list of rows."""
    x, t = _pair(input, target, dtype)
    if len(x.shape) != 2:
        raise ValueError("kl_div_rows needs 2-d data: a list of rows or a 2-d array")
    rows, cols = x.shape
    if _np is not None and x.kind == "numpy":
        result = _np.zeros(rows, dtype=x.keep.dtype)
    else:
        result = array.array("d" if x.dtype == "f64" else "f", bytes(rows * _size(x.dtype)))
    view = _Floats(result, "out", x.dtype)
    _call("nkl_kl_div_rows", x.dtype, x.address, cols, t.address, cols, rows, cols,
          _flags(log_target, masked), view.address)
    return result.tolist() if x.kind == "list" else result


def kl_div_backward(input, target, reduction="mean", *, batch=None, grad_output=1.0,
                    log_target=False, masked=False, dtype=None, want_grad_target=True):
    """The reduced value and the gradients with respect to input and target, in one pass:
    (value, grad_input, grad_target); grad_target is None unless wanted."""
    if reduction not in _REDUCTIONS or reduction == "none":
        raise ValueError(f"reduction must be sum, mean or batchmean, not {reduction!r}")
    x, t = _pair(input, target, dtype)
    grad_input, gi = x.new_like()
    grad_target, gt = x.new_like() if want_grad_target else (None, None)
    value = _ctype(x.dtype)()
    rows = x.rows if batch is None else batch
    _call("nkl_kl_div_backward", x.dtype, x.address, t.address, x.length, _REDUCTIONS[reduction], rows,
          _flags(log_target, masked), grad_output, ctypes.addressof(value), gi.address,
          gt.address if gt else None)
    return (value.value, x.give_back(grad_input),
            x.give_back(grad_target) if grad_target is not None else None)


def _distill_args(student, teacher, temperature, reduction, teacher_log_probs_as_given, multiply_loss_by_t2,
                  row_weights, dtype):
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {', '.join(_REDUCTIONS)}, not {reduction!r}")
    s, u = _pair(student, teacher, dtype)
    if len(s.shape) != 2 or tuple(u.shape) != tuple(s.shape):
        raise ValueError("distill needs 2-d student and teacher logits of the same shape [rows, cols]")
    rows, cols = s.shape
    w = None
    if row_weights is not None:
        w = _Floats(row_weights, "row_weights", s.dtype)
        if w.length != rows:
            raise ValueError(f"row_weights has {w.length} values for {rows} rows")
    flags = ((_TEACHER_LOG_PROBS_AS_GIVEN if teacher_log_probs_as_given else 0)
             | (_MULTIPLY_LOSS_BY_T2 if multiply_loss_by_t2 else 0))
    desc = _DistillDesc(rows, cols, cols, cols, float(temperature), _REDUCTIONS[reduction], flags)
    return s, u, w, desc


def _rows_result(s, rows):
    if _np is not None and s.kind == "numpy":
        result = _np.zeros(rows, dtype=s.keep.dtype)
    else:
        result = array.array("d" if s.dtype == "f64" else "f", bytes(rows * _size(s.dtype)))
    return result, _Floats(result, "out", s.dtype)


def distill(student, teacher, temperature=1.0, reduction="batchmean", *,
            teacher_log_probs_as_given=False, multiply_loss_by_t2=False, row_weights=None, dtype=None):
    """Knowledge distillation from [rows, cols] logits, fused: per row KL(softmax(teacher / T) ||
    softmax(student / T)), i.e. F.kl_div(F.log_softmax(s / T, 1), F.softmax(u / T, 1), reduction)
    [* T * T with multiply_loss_by_t2]. teacher_log_probs_as_given: the teacher rows are
    log-probabilities used as given.
    row_weights: one weight >= 0 per row (0 ignores the row). "none" returns one value per row."""
    s, u, w, desc = _distill_args(student, teacher, temperature, reduction, teacher_log_probs_as_given,
                                  multiply_loss_by_t2, row_weights, dtype)
    if reduction == "none":
        result, view = _rows_result(s, desc.rows)
        _call("nkl_distill_rows", s.dtype, ctypes.byref(desc), s.address, u.address, w.address if w else None,
              view.address)
        return result.tolist() if s.kind == "list" else result
    value = _ctype(s.dtype)()
    _call("nkl_distill", s.dtype, ctypes.byref(desc), s.address, u.address, w.address if w else None,
          ctypes.addressof(value))
    return value.value


def distill_backward(student, teacher, temperature=1.0, reduction="batchmean", *, grad_output=1.0,
                     teacher_log_probs_as_given=False, multiply_loss_by_t2=False, row_weights=None,
                     dtype=None, want_grad_teacher=True):
    """The distillation loss (per row for "none") and its gradients in one call:
    (value, grad_student, grad_teacher); grad_teacher is None unless wanted."""
    s, u, w, desc = _distill_args(student, teacher, temperature, reduction, teacher_log_probs_as_given,
                                  multiply_loss_by_t2, row_weights, dtype)
    grad_student, gs = s.new_like()
    grad_teacher, gt = s.new_like() if want_grad_teacher else (None, None)
    if reduction == "none":
        value, view = _rows_result(s, desc.rows)
        value_address = view.address
    else:
        scalar = _ctype(s.dtype)()
        value_address = ctypes.addressof(scalar)
    _call("nkl_distill_rows_backward" if reduction == "none" else "nkl_distill_backward", s.dtype,
          ctypes.byref(desc), s.address, u.address, w.address if w else None, grad_output, value_address,
          gs.address, desc.cols, gt.address if gt else None, desc.cols)
    if reduction == "none":
        value = value.tolist() if s.kind == "list" else value
    else:
        value = scalar.value
    return (value, s.give_back(grad_student), s.give_back(grad_teacher) if grad_teacher is not None else None)


def distill_partials(student, teacher, first_row, row_count, temperature=1.0, *,
                     teacher_log_probs_as_given=False, multiply_loss_by_t2=False, row_weights=None, dtype=None):
    """A piece of distill() for threads of your own: the losses of rows first_row ..
    first_row + row_count - 1 in float64, unrounded (a list). The arguments describe the whole
    call; distill_finish() of every row's partial gives distill()'s value, bit for bit."""
    s, u, w, desc = _distill_args(student, teacher, temperature, "sum", teacher_log_probs_as_given,
                                  multiply_loss_by_t2, row_weights, dtype)
    out = (ctypes.c_double * max(row_count, 1))()
    _call("nkl_distill_partials", s.dtype, ctypes.byref(desc), s.address, u.address, w.address if w else None,
          first_row, row_count, ctypes.addressof(out))
    return list(out)[:row_count]


def distill_finish(row_partials, cols, temperature=1.0, reduction="batchmean", *,
                   teacher_log_probs_as_given=False, multiply_loss_by_t2=False, row_weights=None, dtype="f32"):
    """The reduced distillation loss from distill_partials() of all rows (in row order)."""
    if reduction not in _REDUCTIONS or reduction == "none":
        raise ValueError(f"reduction must be sum, mean or batchmean, not {reduction!r}")
    rows = len(row_partials)
    w = None
    if row_weights is not None:
        w = _Floats(row_weights, "row_weights", dtype)
        if w.length != rows:
            raise ValueError(f"row_weights has {w.length} values for {rows} rows")
    flags = ((_TEACHER_LOG_PROBS_AS_GIVEN if teacher_log_probs_as_given else 0)
             | (_MULTIPLY_LOSS_BY_T2 if multiply_loss_by_t2 else 0))
    desc = _DistillDesc(rows, cols, cols, cols, float(temperature), _REDUCTIONS[reduction], flags)
    parts = (ctypes.c_double * max(rows, 1))(*row_partials)
    value = _ctype(dtype)()
    _call("nkl_distill_finish", dtype, ctypes.byref(desc), w.address if w else None, ctypes.addressof(parts),
          ctypes.addressof(value))
    return value.value


# ------------------------------------------------------------------ the seed example

def _seed_example():
    logits = [[0.5, 1.0, 0.8], [0.2, 0.4, 0.6]]
    target = [[0.3, 0.4, 0.3], [0.1, 0.5, 0.4]]
    log_probs = []
    for row in logits:
        top = max(row)
        total = sum(math.exp(v - top) for v in row)
        log_probs.append([math.log(math.exp(v - top) / total) for v in row])
    if _np is not None:
        log_probs, target = _np.array(log_probs, dtype=_np.float32), _np.array(target, dtype=_np.float32)
    for reduction in ("sum", "batchmean", "mean"):
        print(f"{reduction:<10} {kl_div(log_probs, target, reduction):.6f}")
    print(f"per row    {', '.join(f'{v:.6f}' for v in kl_div_rows(log_probs, target))}")
    print(f"libnativekl {version()}, ISA {active_isa()}, {library_path}; "
          f"data as {'numpy arrays' if _np is not None else 'lists (numpy not installed)'}")


if __name__ == "__main__":
    _seed_example()
    sys.exit(0)
