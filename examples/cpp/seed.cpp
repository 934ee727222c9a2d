// The seed example in C++17 through nativekl.hpp: logits [[0.5,1.0,0.8],[0.2,0.4,0.6]] ->
// softmax over each row -> log gives the input; the target is [[0.3,0.4,0.3],[0.1,0.5,0.4]].
// PyTorch (float32) gives sum 0.115592, batchmean 0.057796, mean 0.019265.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include <nativekl.hpp>

int main() {
    constexpr std::size_t rows = 2, cols = 3;
    const std::vector<float> logits = {0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f};
    const std::vector<float> target = {0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f};

    nkl::buffer<float> input(rows * cols);  // aligned native memory, freed by its destructor
    for (std::size_t r = 0; r < rows; r++) {
        const float *row = logits.data() + r * cols;
        float max = *std::max_element(row, row + cols), total = 0.0f;
        for (std::size_t c = 0; c < cols; c++) total += std::exp(row[c] - max);
        for (std::size_t c = 0; c < cols; c++) input[r * cols + c] = std::log(std::exp(row[c] - max) / total);
    }

    std::vector<float> per_row(rows);
    nkl::kl_div_rows(input, target, cols, per_row);
    std::printf("%-10s %.6f\n", "sum", nkl::kl_div_sum(input, target));
    std::printf("%-10s %.6f   (per row: %.6f, %.6f)\n", "batchmean", nkl::kl_div_batchmean(input, target, rows),
                per_row[0], per_row[1]);
    std::printf("%-10s %.6f\n", "mean", nkl::kl_div_mean(input, target));

    // distillation from the logits themselves: teacher = the target's logs, T = 2, loss * T^2
    std::vector<float> teacher(rows * cols), grad_s(rows * cols), grad_t(rows * cols);
    for (std::size_t i = 0; i < rows * cols; i++) teacher[i] = std::log(target[i]);
    float distill = nkl::distill_backward(nkl::span<const float>(logits), nkl::span<const float>(teacher), cols,
                                          2.0, nkl::span<float>(grad_s), nkl::span<float>(grad_t),
                                          NKL_REDUCTION_BATCHMEAN, 1.0f, NKL_MULTIPLY_LOSS_BY_T2);
    float gsum = 0.0f;
    for (float g : grad_s) gsum += g;
    std::printf("%-10s %.5f    (d/d student sums to %.0e)\n", "distill", distill, gsum);

    try {
        nkl::kl_div_batchmean(input, target, 4);  // 4 does not divide 6 elements
        return 1;
    } catch (const nkl::error &e) {
        std::printf("batch 4    nkl::error: %s\n", e.what());
    }
    return 0;
}
