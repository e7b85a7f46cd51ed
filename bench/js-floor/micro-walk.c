/*
 * micro-walk.c: the page-table walk of bench/js-floor/micro.mjs (part 2, "per page, keys as
 * doubles") in C, with cfault.c's hash map: one lookup per page over 4.6M pages in 9,000 2M
 * blocks, every other block dense. A measuring stick, not part of the product.
 *
 *   gcc -O2 -o /tmp/micro-walk bench/js-floor/micro-walk.c && /tmp/micro-walk
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static int64_t keys[1 << 16];
static int32_t vals[1 << 16];
static const uint64_t mask = (1 << 16) - 1;
static uint64_t hsh(int64_t k) { uint64_t x = (uint64_t)k * 0x9E3779B97F4A7C15ULL; return x ^ (x >> 29); }
static int32_t get(int64_t k) { for (uint64_t i = hsh(k) & mask;; i = (i + 1) & mask) { if (!vals[i]) return 0; if (keys[i] == k) return vals[i]; } }
static void put(int64_t k, int32_t v) { for (uint64_t i = hsh(k) & mask;; i = (i + 1) & mask) if (!vals[i]) { keys[i] = k; vals[i] = v; return; } }
static int32_t *pte[9001];
static int32_t uni[9001];
__attribute__((noinline)) static long walk(int64_t s, int64_t e) {
  long c = 0;
  for (int64_t p = s; p < e; p++) {
    int32_t b = get(p >> 9);
    if (!b) { p = ((p >> 9) << 9) + 511; continue; }
    int32_t v = pte[b] ? pte[b][p & 511] : uni[b];
    if (v < 0) c++;
  }
  return c;
}
int main(void) {
  const int64_t base = 0x7f0000000; /* page number of 0x7f0000000000 */
  for (int b = 1; b <= 9000; b++) {
    put(base / 512 + b, b);
    uni[b] = 2;
    if (b % 2) { pte[b] = malloc(2048); for (int i = 0; i < 512; i++) pte[b][i] = -3; }
  }
  double best = 1e9; long c = 0;
  for (int r = 0; r < 3; r++) {
    struct timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    for (int i = 0; i < 10; i++) c += walk(base + 512, base + 512 * 9000);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double s = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) / 1e9;
    if (s < best) best = s;
  }
  printf("per page, cfault's map (C, gcc -O2)          %.2f ns/page (checksum %ld)\n", best * 1e9 / (10.0 * 512 * 8999), c);
  return 0;
}
