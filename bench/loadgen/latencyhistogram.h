#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace OmwBench {

// Latencies in 10 µs buckets up to 30 s; longer ones land in the last bucket, and the exact
// maximum is kept apart. Histograms of several processes merge by adding buckets.
class LatencyHistogram
{
public:
    static constexpr int64_t bucketNs = 10'000;
    static constexpr size_t bucketCount = 3'000'000;

    LatencyHistogram() : m_buckets(bucketCount, 0) { }

    void add(int64_t latencyNs);
    void merge(const LatencyHistogram &other);
    void clear();

    uint64_t count() const { return m_count; }
    int64_t maxNs() const { return m_maxNs; }
    // The latency below which `fraction` (0 to 1) of the samples lie, at bucket resolution
    // (the bucket's upper edge). 0 when empty.
    int64_t quantileNs(double fraction) const;

    // "count,max;index:count,index:count..." with only the non-empty buckets.
    std::string serialize() const;
    bool deserialize(const std::string &text);

private:
    std::vector<uint32_t> m_buckets;
    uint64_t m_count = 0;
    int64_t m_maxNs = 0;
};

} // namespace OmwBench
