#include "latencyhistogram.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace OmwBench {

void LatencyHistogram::add(int64_t latencyNs)
{
    if (latencyNs < 0)
        latencyNs = 0;
    const size_t index = std::min(size_t(latencyNs / bucketNs), bucketCount - 1);
    ++m_buckets[index];
    ++m_count;
    m_maxNs = std::max(m_maxNs, latencyNs);
}

void LatencyHistogram::merge(const LatencyHistogram &other)
{
    for (size_t i = 0; i < bucketCount; ++i)
        m_buckets[i] += other.m_buckets[i];
    m_count += other.m_count;
    m_maxNs = std::max(m_maxNs, other.m_maxNs);
}

void LatencyHistogram::clear()
{
    std::fill(m_buckets.begin(), m_buckets.end(), 0);
    m_count = 0;
    m_maxNs = 0;
}

int64_t LatencyHistogram::quantileNs(double fraction) const
{
    if (m_count == 0)
        return 0;
    const auto rank = uint64_t(std::ceil(fraction * double(m_count)));
    uint64_t seen = 0;
    for (size_t i = 0; i < bucketCount; ++i) {
        seen += m_buckets[i];
        if (seen >= std::max<uint64_t>(rank, 1))
            return std::min(int64_t(i + 1) * bucketNs, m_maxNs);
    }
    return m_maxNs;
}

std::string LatencyHistogram::serialize() const
{
    std::string text = std::to_string(m_count) + "," + std::to_string(m_maxNs) + ";";
    bool first = true;
    for (size_t i = 0; i < bucketCount; ++i) {
        if (m_buckets[i] == 0)
            continue;
        if (!first)
            text += ',';
        first = false;
        text += std::to_string(i) + ':' + std::to_string(m_buckets[i]);
    }
    return text;
}

bool LatencyHistogram::deserialize(const std::string &text)
{
    clear();
    const char *cursor = text.c_str();
    char *end = nullptr;
    m_count = std::strtoull(cursor, &end, 10);
    if (*end != ',')
        return false;
    m_maxNs = std::strtoll(end + 1, &end, 10);
    if (*end != ';')
        return false;
    cursor = end + 1;
    while (*cursor) {
        const unsigned long long index = std::strtoull(cursor, &end, 10);
        if (*end != ':' || index >= bucketCount)
            return false;
        m_buckets[index] += uint32_t(std::strtoul(end + 1, &end, 10));
        if (*end == ',')
            ++end;
        cursor = end;
    }
    return true;
}

} // namespace OmwBench
