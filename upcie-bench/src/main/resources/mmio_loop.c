/*
 * The C side of MmioVersusCBenchmark: the same loops of register accesses, in C, as a driver in C
 * would write them (volatile pointers, no barriers: what mmio.h in uPCIe and libvfn do on x86).
 * Built with gcc -O2 by the benchmark itself and called once per measurement through FFM, so the
 * call costs nothing per access.
 */
#include <stdint.h>

uint64_t upcie_read32(volatile uint32_t *base, uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += base[i & 15];
	return sum;
}

uint64_t upcie_read64(volatile uint64_t *base, uint64_t n)
{
	uint64_t sum = 0;
	for (uint64_t i = 0; i < n; i++)
		sum += base[i & 15];
	return sum;
}

void upcie_write32(volatile uint32_t *base, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		base[i & 15] = (uint32_t)i;
}

void upcie_write64(volatile uint64_t *base, uint64_t n)
{
	for (uint64_t i = 0; i < n; i++)
		base[i & 15] = i;
}
