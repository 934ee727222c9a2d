/*
 * nativekl.hpp - C++17 convenience over nativekl.h, header-only.
 *
 *   nkl::span<T>     a minimal std::span stand-in (pointer + length); std::vector,
 *                    std::array, std::span, C arrays and nkl::buffer convert to it.
 *   nkl::buffer<T>   RAII owner of nkl_alloc'd, 64-byte-aligned memory (move-only).
 *   nkl::error       thrown when a call returns a status other than NKL_OK; what()
 *                    is nkl_status_string(), status() the code.
 *   nkl::kl_div_sum, kl_div_mean, kl_div_batchmean, kl_div_pointwise, kl_div_rows,
 *   kl_div_backward  the C functions, one overload per element type (float, double).
 *
 * nativekl.h is the manual: the semantics, flags and errors are described there.
 * Every NaN these functions return or write has the bits NKL_NAN_BITS_F32 /
 * NKL_NAN_BITS_F64 (the positive quiet NaN: GCC's std::numeric_limits<T>::quiet_NaN()),
 * whatever NaN the inputs held and on every instruction set, so results compare with memcmp.
 * Adding a C function here takes one line per type in detail::c_api and one wrapper.
 */
#ifndef NATIVEKL_HPP
#define NATIVEKL_HPP

#include "nativekl.h"

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <new>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace nkl {

/* --------------------------------------------------------------- errors */

class error : public std::runtime_error {
public:
    explicit error(nkl_status status) : std::runtime_error(nkl_status_string(status)), status_(status) {}
    nkl_status status() const noexcept { return status_; }

private:
    nkl_status status_;
};

inline void check(nkl_status status) {
    if (status != NKL_OK) throw error(status);
}

/* ----------------------------------------------------------------- span */

template <class T>
class span {
public:
    constexpr span() noexcept = default;
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}

    /* Any contiguous range whose data() points to something convertible to T*:
       span<const float> takes a std::vector<float>, but span<const double> does not. */
    template <class Range,
              class Pointer = decltype(std::data(std::declval<Range &>())),
              class = std::enable_if_t<std::is_convertible_v<Pointer, T *> &&
                                       !std::is_same_v<std::remove_cv_t<std::remove_reference_t<Range>>, span>>>
    constexpr span(Range &&range) noexcept(noexcept(std::data(range)) && noexcept(std::size(range)))
        : data_(std::data(range)), size_(static_cast<std::size_t>(std::size(range))) {}

    /* span<T> -> span<const T> */
    template <class U, class = std::enable_if_t<std::is_convertible_v<U *, T *>>>
    constexpr span(const span<U> &other) noexcept : data_(other.data()), size_(other.size()) {}

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/* --------------------------------------------------------------- buffer */

template <class T>
class buffer {
    static_assert(std::is_trivially_copyable_v<T>, "nkl::buffer holds plain numbers");

public:
    static constexpr std::size_t alignment = 64;

    buffer() noexcept = default;
    explicit buffer(std::size_t count) : size_(count) {
        if (count > SIZE_MAX / sizeof(T)) throw error(NKL_ERROR_SIZE_OVERFLOW);
        void *p = nullptr;
        nkl_status s = nkl_alloc(count * sizeof(T), alignment, &p);
        if (s == NKL_ERROR_OUT_OF_MEMORY) throw std::bad_alloc();
        check(s);
        data_ = static_cast<T *>(p);
    }
    buffer(const buffer &) = delete;
    buffer &operator=(const buffer &) = delete;
    buffer(buffer &&other) noexcept
        : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}
    buffer &operator=(buffer &&other) noexcept {
        buffer(std::move(other)).swap(*this);
        return *this;
    }
    ~buffer() { nkl_free(data_); }

    void swap(buffer &other) noexcept {
        std::swap(data_, other.data_);
        std::swap(size_, other.size_);
    }

    T *data() noexcept { return data_; }
    const T *data() const noexcept { return data_; }
    std::size_t size() const noexcept { return size_; }
    T *begin() noexcept { return data_; }
    T *end() noexcept { return data_ + size_; }
    const T *begin() const noexcept { return data_; }
    const T *end() const noexcept { return data_ + size_; }
    T &operator[](std::size_t i) noexcept { return data_[i]; }
    const T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    T *data_ = nullptr;
    std::size_t size_ = 0;
};

/* ------------------------------------------------------------ functions */

namespace detail {

template <class T>
struct c_api;

template <>
struct c_api<float> {
    static constexpr auto kl_div = nkl_kl_div_f32;
    static constexpr auto kl_div_pointwise = nkl_kl_div_pointwise_f32;
    static constexpr auto kl_div_rows = nkl_kl_div_rows_f32;
    static constexpr auto kl_div_backward = nkl_kl_div_backward_f32;
    static constexpr auto distill = nkl_distill_f32;
    static constexpr auto distill_rows = nkl_distill_rows_f32;
    static constexpr auto distill_backward = nkl_distill_backward_f32;
    static constexpr auto distill_partials = nkl_distill_partials_f32;
    static constexpr auto distill_finish = nkl_distill_finish_f32;
};

template <>
struct c_api<double> {
    static constexpr auto kl_div = nkl_kl_div_f64;
    static constexpr auto kl_div_pointwise = nkl_kl_div_pointwise_f64;
    static constexpr auto kl_div_rows = nkl_kl_div_rows_f64;
    static constexpr auto kl_div_backward = nkl_kl_div_backward_f64;
    static constexpr auto distill = nkl_distill_f64;
    static constexpr auto distill_rows = nkl_distill_rows_f64;
    static constexpr auto distill_backward = nkl_distill_backward_f64;
    static constexpr auto distill_partials = nkl_distill_partials_f64;
    static constexpr auto distill_finish = nkl_distill_finish_f64;
};

/* Both inputs must have one length: the C API takes one n for both. */
template <class T>
std::size_t common_length(span<const T> input, span<const T> target) {
    if (input.size() != target.size())
        throw std::invalid_argument("nkl: input and target differ in length");
    return input.size();
}

template <class T>
T reduce(span<const T> input, span<const T> target, nkl_reduction reduction, std::size_t batch,
         std::uint32_t flags) {
    T out;
    check(c_api<T>::kl_div(input.data(), target.data(), common_length(input, target), reduction,
                           batch, flags, &out));
    return out;
}

template <class T>
void pointwise(span<const T> input, span<const T> target, span<T> out, std::uint32_t flags) {
    std::size_t n = common_length(input, target);
    if (out.size() != n) throw std::invalid_argument("nkl: out must hold one value per element");
    check(c_api<T>::kl_div_pointwise(input.data(), target.data(), n, flags, out.data()));
}

template <class T>
void rows(span<const T> input, span<const T> target, std::size_t cols, span<T> out,
          std::uint32_t flags) {
    std::size_t n = common_length(input, target);
    if (cols == 0 || n % cols != 0 || out.size() != n / cols)
        throw std::invalid_argument("nkl: [rows, cols] must tile the data and out hold one value per row");
    check(c_api<T>::kl_div_rows(input.data(), cols, target.data(), cols, out.size(), cols, flags,
                                out.data()));
}

template <class T>
T backward(span<const T> input, span<const T> target, nkl_reduction reduction, std::size_t batch,
           std::uint32_t flags, T grad_output, span<T> grad_input, span<T> grad_target) {
    std::size_t n = common_length(input, target);
    if (reduction == NKL_REDUCTION_NONE)
        throw std::invalid_argument("nkl: kl_div_backward takes SUM, MEAN or BATCHMEAN; the pointwise terms "
                                    "come from nkl_kl_div_pointwise_backward_*");
    if (grad_input.size() != n || (!grad_target.empty() && grad_target.size() != n))
        throw std::invalid_argument("nkl: a gradient must hold one value per element");
    T value;
    check(c_api<T>::kl_div_backward(input.data(), target.data(), n, reduction, batch, flags,
                                    grad_output, &value, grad_input.data(),
                                    grad_target.empty() ? nullptr : grad_target.data()));
    return value;
}

template <class T>
nkl_distill_desc distill_desc(span<const T> student, span<const T> teacher, std::size_t cols,
                              double temperature, nkl_reduction reduction, std::uint32_t flags) {
    std::size_t n = common_length(student, teacher);
    if (cols == 0 || n % cols != 0)
        throw std::invalid_argument("nkl: [rows, cols] must tile the logits");
    return nkl_distill_desc{n / cols, cols, cols, cols, temperature, reduction, flags};
}

template <class T>
T distill(span<const T> student, span<const T> teacher, std::size_t cols, double temperature,
          nkl_reduction reduction, std::uint32_t flags) {
    if (reduction == NKL_REDUCTION_NONE)
        throw std::invalid_argument("nkl: distill takes SUM, MEAN or BATCHMEAN; one loss per row comes from "
                                    "distill_rows");
    nkl_distill_desc d = distill_desc(student, teacher, cols, temperature, reduction, flags);
    T value;
    check(c_api<T>::distill(&d, student.data(), teacher.data(), nullptr, &value));
    return value;
}

template <class T>
void distill_rows(span<const T> student, span<const T> teacher, std::size_t cols, double temperature,
                  std::uint32_t flags, span<T> row_losses) {
    nkl_distill_desc d = distill_desc(student, teacher, cols, temperature, NKL_REDUCTION_SUM, flags);
    if (row_losses.size() != d.rows) throw std::invalid_argument("nkl: row_losses must hold one value per row");
    check(c_api<T>::distill_rows(&d, student.data(), teacher.data(), nullptr, row_losses.data()));
}

template <class T>
T distill_backward(span<const T> student, span<const T> teacher, std::size_t cols, double temperature,
                   nkl_reduction reduction, std::uint32_t flags, T grad_output, span<T> grad_student,
                   span<T> grad_teacher) {
    if (reduction == NKL_REDUCTION_NONE)
        throw std::invalid_argument("nkl: distill_backward takes SUM, MEAN or BATCHMEAN; per-row gradients "
                                    "come from nkl_distill_rows_backward_*");
    nkl_distill_desc d = distill_desc(student, teacher, cols, temperature, reduction, flags);
    if (grad_student.size() != student.size() || (!grad_teacher.empty() && grad_teacher.size() != student.size()))
        throw std::invalid_argument("nkl: a gradient must hold one value per logit");
    T value;
    check(c_api<T>::distill_backward(&d, student.data(), teacher.data(), nullptr, grad_output, &value,
                                     grad_student.data(), cols,
                                     grad_teacher.empty() ? nullptr : grad_teacher.data(), cols));
    return value;
}

template <class T>
void distill_partials(span<const T> student, span<const T> teacher, std::size_t cols, double temperature,
                      std::uint32_t flags, std::size_t first_row, span<double> row_partials) {
    nkl_distill_desc d = distill_desc(student, teacher, cols, temperature, NKL_REDUCTION_SUM, flags);
    check(c_api<T>::distill_partials(&d, student.data(), teacher.data(), nullptr, first_row,
                                     row_partials.size(), row_partials.data()));
}

template <class T>
T distill_finish(span<const double> row_partials, std::size_t cols, double temperature,
                 nkl_reduction reduction, std::uint32_t flags) {
    nkl_distill_desc d{row_partials.size(), cols, cols, cols, temperature, reduction, flags};
    T value;
    check(c_api<T>::distill_finish(&d, nullptr, row_partials.data(), &value));
    return value;
}

} // namespace detail

/* sum of the pointwise terms (flags: NKL_LOG_TARGET | NKL_MASKED) */
inline float kl_div_sum(span<const float> input, span<const float> target, std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_SUM, 0, flags);
}
inline double kl_div_sum(span<const double> input, span<const double> target, std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_SUM, 0, flags);
}

/* sum / element count: PyTorch's default reduction */
inline float kl_div_mean(span<const float> input, span<const float> target, std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_MEAN, 0, flags);
}
inline double kl_div_mean(span<const double> input, span<const double> target, std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_MEAN, 0, flags);
}

/* sum / batch (the size of dimension 0): the KL of a batch */
inline float kl_div_batchmean(span<const float> input, span<const float> target, std::size_t batch,
                              std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_BATCHMEAN, batch, flags);
}
inline double kl_div_batchmean(span<const double> input, span<const double> target, std::size_t batch,
                               std::uint32_t flags = 0) {
    return detail::reduce(input, target, NKL_REDUCTION_BATCHMEAN, batch, flags);
}

/* reduction 'none': out[i] = L_i (out may be exactly input or target) */
inline void kl_div_pointwise(span<const float> input, span<const float> target, span<float> out,
                             std::uint32_t flags = 0) {
    detail::pointwise(input, target, out, flags);
}
inline void kl_div_pointwise(span<const double> input, span<const double> target, span<double> out,
                             std::uint32_t flags = 0) {
    detail::pointwise(input, target, out, flags);
}

/* one KL per row of dense [out.size(), cols] data */
inline void kl_div_rows(span<const float> input, span<const float> target, std::size_t cols,
                        span<float> out, std::uint32_t flags = 0) {
    detail::rows(input, target, cols, out, flags);
}
inline void kl_div_rows(span<const double> input, span<const double> target, std::size_t cols,
                        span<double> out, std::uint32_t flags = 0) {
    detail::rows(input, target, cols, out, flags);
}

/* the reduced value and its gradients in one pass; grad_target may be empty (not wanted) */
inline float kl_div_backward(span<const float> input, span<const float> target, nkl_reduction reduction,
                             std::size_t batch, span<float> grad_input, span<float> grad_target = {},
                             float grad_output = 1.0f, std::uint32_t flags = 0) {
    return detail::backward(input, target, reduction, batch, flags, grad_output, grad_input, grad_target);
}
inline double kl_div_backward(span<const double> input, span<const double> target, nkl_reduction reduction,
                              std::size_t batch, span<double> grad_input, span<double> grad_target = {},
                              double grad_output = 1.0, std::uint32_t flags = 0) {
    return detail::backward(input, target, reduction, batch, flags, grad_output, grad_input, grad_target);
}

/* distillation from dense [rows, cols] logits: KL(softmax(teacher / T) || softmax(student / T)),
   reduced (BATCHMEAN by default); flags: NKL_TEACHER_LOG_PROBS_AS_GIVEN | NKL_MULTIPLY_LOSS_BY_T2
   | at most one NKL_FORCE_* */
inline float distill(span<const float> student, span<const float> teacher, std::size_t cols,
                     double temperature, nkl_reduction reduction = NKL_REDUCTION_BATCHMEAN,
                     std::uint32_t flags = 0) {
    return detail::distill(student, teacher, cols, temperature, reduction, flags);
}
inline double distill(span<const double> student, span<const double> teacher, std::size_t cols,
                      double temperature, nkl_reduction reduction = NKL_REDUCTION_BATCHMEAN,
                      std::uint32_t flags = 0) {
    return detail::distill(student, teacher, cols, temperature, reduction, flags);
}

/* one distillation loss per row (PyTorch's reduction 'none'): row_losses[r] = KL_r [* T^2] */
inline void distill_rows(span<const float> student, span<const float> teacher, std::size_t cols,
                         double temperature, span<float> row_losses, std::uint32_t flags = 0) {
    detail::distill_rows(student, teacher, cols, temperature, flags, row_losses);
}
inline void distill_rows(span<const double> student, span<const double> teacher, std::size_t cols,
                         double temperature, span<double> row_losses, std::uint32_t flags = 0) {
    detail::distill_rows(student, teacher, cols, temperature, flags, row_losses);
}

/* the distillation loss and its gradients; grad_teacher may be empty (not wanted) */
inline float distill_backward(span<const float> student, span<const float> teacher, std::size_t cols,
                              double temperature, span<float> grad_student, span<float> grad_teacher = {},
                              nkl_reduction reduction = NKL_REDUCTION_BATCHMEAN, float grad_output = 1.0f,
                              std::uint32_t flags = 0) {
    return detail::distill_backward(student, teacher, cols, temperature, reduction, flags, grad_output,
                                    grad_student, grad_teacher);
}
inline double distill_backward(span<const double> student, span<const double> teacher, std::size_t cols,
                               double temperature, span<double> grad_student, span<double> grad_teacher = {},
                               nkl_reduction reduction = NKL_REDUCTION_BATCHMEAN, double grad_output = 1.0,
                               std::uint32_t flags = 0) {
    return detail::distill_backward(student, teacher, cols, temperature, reduction, flags, grad_output,
                                    grad_student, grad_teacher);
}

/* distillation on threads of your own (the C pieces): distill_partials writes the losses of rows
   first_row .. first_row + row_partials.size() - 1 in float64 (any split of the rows, any thread);
   distill_finish<float> / <double> of every row's partial, in row order, gives distill()'s bits */
inline void distill_partials(span<const float> student, span<const float> teacher, std::size_t cols,
                             double temperature, std::size_t first_row, span<double> row_partials,
                             std::uint32_t flags = 0) {
    detail::distill_partials(student, teacher, cols, temperature, flags, first_row, row_partials);
}
inline void distill_partials(span<const double> student, span<const double> teacher, std::size_t cols,
                             double temperature, std::size_t first_row, span<double> row_partials,
                             std::uint32_t flags = 0) {
    detail::distill_partials(student, teacher, cols, temperature, flags, first_row, row_partials);
}
template <class T>
T distill_finish(span<const double> row_partials, std::size_t cols, double temperature,
                 nkl_reduction reduction = NKL_REDUCTION_BATCHMEAN, std::uint32_t flags = 0) {
    static_assert(std::is_same<T, float>::value || std::is_same<T, double>::value, "float or double");
    return detail::distill_finish<T>(row_partials, cols, temperature, reduction, flags);
}

} // namespace nkl

#endif /* NATIVEKL_HPP */
