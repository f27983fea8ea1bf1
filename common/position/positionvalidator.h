#pragma once

#include "position.h"

#include <QJsonValue>
#include <QString>

namespace Omw {

// Why a `NEW_COORDS` point was not accepted. Each value has a wire code, sent as the `reason`
// of the error reply and used as the metrics label.
enum class Rejection {
    None,
    InvalidPayload, // not a JSON object, or an optional field of the wrong type or range
    InvalidCoordinates, // latitude or longitude missing, not a number, or out of range
    InvalidSpeed, // speed not a number
    InvalidHeading, // heading not a number, or 360 or more
    InvalidTimestamp, // timestamp not a number, not finite, or too early to be milliseconds
    NoFix, // exactly 0,0 ("null island"), which receivers report when they have no fix
    TimestampInFuture, // more than the allowed skew ahead of the server clock
    OutOfOrder, // older than the ride's current position
    RateLimited, // the connection sends faster than its message rate allows
};

QString rejectionCode(Rejection rejection);
// Every rejection except None, in declaration order; for metrics that list every label.
QList<Rejection> allRejections();

struct ValidationResult
{
    Position position;
    Rejection rejection = Rejection::None;
    QString message; // names the field and the value, and says what is expected

    bool isValid() const { return rejection == Rejection::None; }
};

// Checks a `NEW_COORDS` payload against the rules of the Omw protocol. It is stateless: the
// ride-dependent checks (out of order, exact repeats) and rate limits belong to the caller.
class PositionValidator
{
public:
    // Earliest timestamp taken as epoch milliseconds (2000-01-01T00:00:00Z). Anything earlier
    // is almost certainly seconds sent where milliseconds are expected.
    static constexpr qint64 earliestTimestamp = 946684800000;

    struct Options
    {
        bool allowNoFix = false; // accept exactly 0,0
        qint64 maxFutureSkew = 5 * 60 * 1000; // milliseconds ahead of the server clock
    };

    PositionValidator() = default;
    explicit PositionValidator(const Options &options) : m_options(options) { }

    const Options &options() const { return m_options; }

    // Validates `payload` received at `receivedAt` (epoch milliseconds). A missing timestamp
    // becomes the receive time.
    ValidationResult validate(const QJsonValue &payload, qint64 receivedAt) const;

private:
    Options m_options;
};

} // namespace Omw
