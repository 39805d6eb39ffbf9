// Seeded pseudo-random numbers for the core: the same seed gives the same
// sampling addresses and split points, so a run can be replayed exactly.
#pragma once

#include <cstdint>

namespace damond {

// xoshiro256** seeded through splitmix64.
class Rng {
public:
    explicit Rng(uint64_t seed = 0) { reseed(seed); }

    void reseed(uint64_t seed) {
        for (uint64_t& word : s_) word = splitmix64(seed);
    }

    uint64_t next() {
        const uint64_t result = rotl(s_[1] * 5, 7) * 9;
        const uint64_t t = s_[1] << 17;
        s_[2] ^= s_[0];
        s_[3] ^= s_[1];
        s_[1] ^= s_[2];
        s_[0] ^= s_[3];
        s_[2] ^= t;
        s_[3] = rotl(s_[3], 45);
        return result;
    }

    // The kernel's damon_rand(l, r): a value in [l, r). r must exceed l.
    uint64_t range(uint64_t l, uint64_t r) { return l + next() % (r - l); }

    bool operator==(const Rng&) const = default;

private:
    static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
    static uint64_t splitmix64(uint64_t& x) {
        uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }

    uint64_t s_[4];
};

}  // namespace damond
