#pragma once

#include <QtGlobal>

#include <algorithm>

namespace Omw {

// A token bucket: `rate` tokens per second refill it, up to `burst` tokens. Each event takes one
// token; an event that finds the bucket empty is over the limit. Times are milliseconds from a
// monotonic clock. The bucket is 16 bytes, small enough to keep one per connection.
class TokenBucket
{
public:
    // Takes one token; returns false when the bucket is empty.
    bool tryTake(qint64 now, double rate, double burst)
    {
        if (m_lastRefill == 0) {
            m_tokens = burst;
        } else if (now > m_lastRefill) {
            m_tokens = std::min(burst, m_tokens + (now - m_lastRefill) * rate / 1000.0);
        }
        m_lastRefill = now;
        if (m_tokens < 1.0) {
            return false;
        }
        m_tokens -= 1.0;
        return true;
    }

    // Whether a token is available at `now`, without taking it.
    bool canTake(qint64 now, double rate, double burst) const
    {
        if (m_lastRefill == 0) {
            return burst >= 1.0;
        }
        const qint64 elapsed = now > m_lastRefill ? now - m_lastRefill : 0;
        return std::min(burst, m_tokens + elapsed * rate / 1000.0) >= 1.0;
    }

    // Whether the bucket would be full again at `now`, so that forgetting it changes nothing.
    bool isFull(qint64 now, double rate, double burst) const
    {
        return m_lastRefill == 0 || m_tokens + (now - m_lastRefill) * rate / 1000.0 >= burst;
    }

private:
    double m_tokens = 0;
    qint64 m_lastRefill = 0;
};

} // namespace Omw
