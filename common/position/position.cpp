#include "position.h"

namespace Omw {

namespace {

bool sameValue(double a, double b)
{
    return (std::isnan(a) && std::isnan(b)) || a == b;
}

QJsonValue jsonOrNull(double value)
{
    return std::isnan(value) ? QJsonValue(QJsonValue::Null) : QJsonValue(value);
}

double numberOrUnknown(const QJsonValue &value)
{
    return value.isDouble() ? value.toDouble() : Position::unknown;
}

} // namespace

bool Position::sameFixAs(const Position &other) const
{
    return latitude == other.latitude && longitude == other.longitude
        && sameValue(speed, other.speed) && sameValue(heading, other.heading)
        && sameValue(accuracy, other.accuracy) && sameValue(altitude, other.altitude)
        && (timestamp == other.timestamp || (!deviceTimestamp && !other.deviceTimestamp));
}

QJsonObject Position::toBroadcastPayload(const QString &slug) const
{
    QJsonObject payload {
        {QStringLiteral("heading"), jsonOrNull(heading)}, {QStringLiteral("latitude"), latitude},
        {QStringLiteral("longitude"), longitude},         {QStringLiteral("slug"), slug},
        {QStringLiteral("speed"), jsonOrNull(speed)},     {QStringLiteral("timestamp"), timestamp},
        {QStringLiteral("received_at"), receivedAt},
    };
    if (hasAccuracy()) {
        payload.insert(QStringLiteral("accuracy"), accuracy);
    }
    if (hasAltitude()) {
        payload.insert(QStringLiteral("altitude"), altitude);
    }
    return payload;
}

Position Position::fromBroadcastPayload(const QJsonObject &payload)
{
    Position position;
    position.latitude = numberOrUnknown(payload.value(QStringLiteral("latitude")));
    position.longitude = numberOrUnknown(payload.value(QStringLiteral("longitude")));
    position.speed = numberOrUnknown(payload.value(QStringLiteral("speed")));
    position.heading = numberOrUnknown(payload.value(QStringLiteral("heading")));
    position.accuracy = numberOrUnknown(payload.value(QStringLiteral("accuracy")));
    position.altitude = numberOrUnknown(payload.value(QStringLiteral("altitude")));
    position.timestamp = static_cast<qint64>(payload.value(QStringLiteral("timestamp")).toDouble());
    position.receivedAt
        = static_cast<qint64>(payload.value(QStringLiteral("received_at")).toDouble());
    return position;
}

} // namespace Omw
