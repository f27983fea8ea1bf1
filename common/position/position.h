#pragma once

#include <QJsonObject>
#include <QMetaType>
#include <QtGlobal>

#include <cmath>
#include <limits>

namespace Omw {

// One fix of a ride as Omw stores and relays it. Unknown values are NaN, never a placeholder
// such as 0 or -1. Times are UTC milliseconds since the Unix epoch.
struct Position
{
    static constexpr double unknown = std::numeric_limits<double>::quiet_NaN();

    double latitude = unknown; // WGS 84 degrees, [-90, 90]
    double longitude = unknown; // WGS 84 degrees, [-180, 180]
    double speed = unknown; // metres per second, >= 0
    double heading = unknown; // degrees clockwise from true north, [0, 360)
    double accuracy = unknown; // horizontal accuracy radius in metres, >= 0
    double altitude
        = unknown; // metres above the WGS 84 ellipsoid or sea level, as the device reports
    qint64 timestamp = 0; // when the device took the fix
    bool deviceTimestamp = true; // false when the fix had no time and `timestamp` is receivedAt
    qint64 receivedAt = 0; // when the server accepted it

    bool hasSpeed() const { return !std::isnan(speed); }
    bool hasHeading() const { return !std::isnan(heading); }
    bool hasAccuracy() const { return !std::isnan(accuracy); }
    bool hasAltitude() const { return !std::isnan(altitude); }

    // Whether two fixes carry the same measurement. Receive time is not part of it, and neither
    // is the timestamp when both fixes came without one (the server stamped each on receipt).
    bool sameFixAs(const Position &other) const;

    // The `NEW_COORDS` broadcast payload: the five keys of the original API (`heading`,
    // `latitude`, `longitude`, `slug`, `speed`), plus `timestamp`, `received_at`, and `accuracy`
    // and `altitude` when known. Unknown speed and heading are null.
    QJsonObject toBroadcastPayload(const QString &slug) const;

    // Reads a payload written by toBroadcastPayload(). Missing or null values become unknown.
    static Position fromBroadcastPayload(const QJsonObject &payload);
};

} // namespace Omw

Q_DECLARE_METATYPE(Omw::Position)
