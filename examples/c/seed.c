/*
 * The seed example in C: logits [[0.5,1.0,0.8],[0.2,0.4,0.6]] -> softmax over
 * each row -> log gives the input; the target is [[0.3,0.4,0.3],[0.1,0.5,0.4]].
 * PyTorch (float32) gives sum 0.115592, batchmean 0.057796, mean 0.019265.
 */
#include <math.h>
#include <stdio.h>

#include <nativekl.h>

enum { ROWS = 2, COLS = 3 };

static void log_softmax_rows(const float *logits, float *out) {
    for (int r = 0; r < ROWS; r++) {
        const float *row = logits + r * COLS;
        float max = row[0], total = 0.0f;
        for (int c = 1; c < COLS; c++) max = fmaxf(max, row[c]);
        for (int c = 0; c < COLS; c++) total += expf(row[c] - max);
        for (int c = 0; c < COLS; c++) out[r * COLS + c] = logf(expf(row[c] - max) / total);
    }
}

int main(void) {
    const float logits[ROWS * COLS] = {0.5f, 1.0f, 0.8f, 0.2f, 0.4f, 0.6f};
    const float target[ROWS * COLS] = {0.3f, 0.4f, 0.3f, 0.1f, 0.5f, 0.4f};
    float input[ROWS * COLS];
    log_softmax_rows(logits, input);

    const struct { const char *name; nkl_reduction reduction; } reductions[] = {
        {"sum", NKL_REDUCTION_SUM}, {"batchmean", NKL_REDUCTION_BATCHMEAN}, {"mean", NKL_REDUCTION_MEAN}};
    for (size_t i = 0; i < sizeof reductions / sizeof reductions[0]; i++) {
        float value;
        nkl_status s = nkl_kl_div_f32(input, target, ROWS * COLS, reductions[i].reduction, ROWS, 0, &value);
        if (s != NKL_OK) {
            fprintf(stderr, "nkl_kl_div_f32: %s\n", nkl_status_string(s));
            return 1;
        }
        printf("%-10s %.6f\n", reductions[i].name, value);
    }
    printf("libnativekl %s, ISA %s\n", nkl_version_string(), nkl_isa_name(nkl_active_isa()));
    return nkl_version() == NKL_VERSION ? 0 : 1;
}
