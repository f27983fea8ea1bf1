#include "positionvalidator.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLocale>

#include <cmath>

namespace Omw {

namespace {

// Renders a JSON value for an error message, cut short so that a huge value cannot bloat the
// reply or the log.
QString describe(const QJsonValue &value)
{
    QString text;
    switch (value.type()) {
    case QJsonValue::Double: {
        // Whole numbers as they were sent: 'g' would write a timestamp in seconds such as
        // 1700000000 as 1.7e+09.
        const double number = value.toDouble();
        if (std::trunc(number) == number && std::abs(number) < 9007199254740992.0) {
            return QString::number(qint64(number));
        }
        return QString::number(number, 'g', QLocale::FloatingPointShortest);
    }
    case QJsonValue::String:
        text = QLatin1Char('"') + value.toString() + QLatin1Char('"');
        break;
    case QJsonValue::Bool:
        return value.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    case QJsonValue::Null:
        return QStringLiteral("null");
    case QJsonValue::Array:
        text = QString::fromUtf8(QJsonDocument(value.toArray()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Object:
        text = QString::fromUtf8(QJsonDocument(value.toObject()).toJson(QJsonDocument::Compact));
        break;
    case QJsonValue::Undefined:
        return QStringLiteral("missing");
    }
    constexpr int maxLength = 40;
    if (text.size() > maxLength) {
        text = text.left(maxLength) + QStringLiteral("...");
    }
    return text;
}

QString typeHint(const QJsonValue &value)
{
    return value.isString() ? QStringLiteral(" (a string; send a JSON number)") : QString();
}

ValidationResult reject(Rejection rejection, const QString &message)
{
    ValidationResult result;
    result.rejection = rejection;
    result.message = message;
    return result;
}

// Reads a required coordinate; returns false with `result` filled when it is invalid.
bool readCoordinate(const QJsonObject &object, const QString &key, double limit, double *out,
                    ValidationResult *result)
{
    const QJsonValue value = object.value(key);
    if (!value.isDouble()) {
        *result = reject(
            Rejection::InvalidCoordinates,
            value.isUndefined() || value.isNull()
                ? QStringLiteral("%1 is missing: it is required, in WGS 84 degrees").arg(key)
                : QStringLiteral("%1 %2 is not a number%3")
                      .arg(key, describe(value), typeHint(value)));
        return false;
    }
    const double degrees = value.toDouble();
    if (!std::isfinite(degrees) || degrees < -limit || degrees > limit) {
        *result = reject(Rejection::InvalidCoordinates,
                         QStringLiteral("%1 %2 is out of range: expected degrees in [-%3, %3]")
                             .arg(key, describe(value))
                             .arg(limit));
        return false;
    }
    *out = degrees;
    return true;
}

} // namespace

QString rejectionCode(Rejection rejection)
{
    switch (rejection) {
    case Rejection::None:
        return QString();
    case Rejection::InvalidPayload:
        return QStringLiteral("invalid_payload");
    case Rejection::InvalidCoordinates:
        return QStringLiteral("invalid_coordinates");
    case Rejection::InvalidSpeed:
        return QStringLiteral("invalid_speed");
    case Rejection::InvalidHeading:
        return QStringLiteral("invalid_heading");
    case Rejection::InvalidTimestamp:
        return QStringLiteral("invalid_timestamp");
    case Rejection::NoFix:
        return QStringLiteral("no_fix");
    case Rejection::TimestampInFuture:
        return QStringLiteral("timestamp_in_future");
    case Rejection::OutOfOrder:
        return QStringLiteral("out_of_order");
    case Rejection::RateLimited:
        return QStringLiteral("rate_limited");
    }
    return QString();
}

QList<Rejection> allRejections()
{
    return {Rejection::InvalidPayload,    Rejection::InvalidCoordinates, Rejection::InvalidSpeed,
            Rejection::InvalidHeading,    Rejection::InvalidTimestamp,   Rejection::NoFix,
            Rejection::TimestampInFuture, Rejection::OutOfOrder,         Rejection::RateLimited};
}

ValidationResult PositionValidator::validate(const QJsonValue &payload, qint64 receivedAt) const
{
    if (!payload.isObject()) {
        return reject(Rejection::InvalidPayload,
                      QStringLiteral("payload %1 is not a JSON object: send {\"latitude\": ..., "
                                     "\"longitude\": ..., \"speed\": ..., \"heading\": ...}")
                          .arg(describe(payload)));
    }
    const QJsonObject object = payload.toObject();
    ValidationResult result;
    Position &position = result.position;
    position.receivedAt = receivedAt;

    if (!readCoordinate(object, QStringLiteral("latitude"), 90.0, &position.latitude, &result)
        || !readCoordinate(object, QStringLiteral("longitude"), 180.0, &position.longitude,
                           &result)) {
        return result;
    }

    // Speed and heading: null, missing or negative mean unknown (iOS sends -1).
    const QJsonValue speed = object.value(QStringLiteral("speed"));
    if (speed.isDouble()) {
        const double metresPerSecond = speed.toDouble();
        if (metresPerSecond >= 0) {
            position.speed = metresPerSecond;
        }
    } else if (!speed.isNull() && !speed.isUndefined()) {
        return reject(Rejection::InvalidSpeed,
                      QStringLiteral("speed %1 is not a number%2: expected metres per second, "
                                     "or null when unknown")
                          .arg(describe(speed), typeHint(speed)));
    }

    const QJsonValue heading = object.value(QStringLiteral("heading"));
    if (heading.isDouble()) {
        const double degrees = heading.toDouble();
        if (degrees > 360.0) {
            return reject(Rejection::InvalidHeading,
                          QStringLiteral("heading %1 is out of range: expected degrees in [0, "
                                         "360), or null when unknown")
                              .arg(describe(heading)));
        }
        if (degrees >= 0) {
            position.heading = degrees == 360.0 ? 0.0 : degrees;
        }
    } else if (!heading.isNull() && !heading.isUndefined()) {
        return reject(Rejection::InvalidHeading,
                      QStringLiteral("heading %1 is not a number%2: expected degrees clockwise "
                                     "from true north, or null when unknown")
                          .arg(describe(heading), typeHint(heading)));
    }

    const QJsonValue timestamp = object.value(QStringLiteral("timestamp"));
    if (timestamp.isUndefined() || timestamp.isNull()) {
        position.timestamp = receivedAt;
        position.deviceTimestamp = false;
    } else if (!timestamp.isDouble()) {
        return reject(Rejection::InvalidTimestamp,
                      QStringLiteral("timestamp %1 is not a number%2: expected UTC milliseconds "
                                     "since the Unix epoch")
                          .arg(describe(timestamp), typeHint(timestamp)));
    } else {
        const double milliseconds = timestamp.toDouble();
        // 2^53: beyond it a double no longer holds every integer millisecond.
        if (!std::isfinite(milliseconds) || milliseconds < earliestTimestamp
            || milliseconds > 9007199254740992.0) {
            return reject(Rejection::InvalidTimestamp,
                          QStringLiteral("timestamp %1 is out of range: expected UTC "
                                         "milliseconds since the Unix epoch, after "
                                         "2000-01-01 (seconds are not accepted)")
                              .arg(describe(timestamp)));
        }
        position.timestamp = static_cast<qint64>(milliseconds);
        if (position.timestamp > receivedAt + m_options.maxFutureSkew) {
            return reject(Rejection::TimestampInFuture,
                          QStringLiteral("timestamp %1 is %2 s ahead of the server clock (at "
                                         "most %3 s allowed): check the device clock")
                              .arg(describe(timestamp))
                              .arg(double(position.timestamp - receivedAt) / 1000.0)
                              .arg(double(m_options.maxFutureSkew) / 1000.0));
        }
    }

    for (const QString &key : {QStringLiteral("accuracy"), QStringLiteral("altitude")}) {
        const QJsonValue value = object.value(key);
        if (value.isUndefined() || value.isNull()) {
            continue;
        }
        const bool isAccuracy = key == QLatin1String("accuracy");
        if (!value.isDouble() || (isAccuracy && value.toDouble() < 0)) {
            return reject(Rejection::InvalidPayload,
                          QStringLiteral("%1 %2 is invalid%3: expected %4, or null when unknown")
                              .arg(key, describe(value), typeHint(value),
                                   isAccuracy ? QStringLiteral("metres, 0 or more")
                                              : QStringLiteral("metres")));
        }
        (isAccuracy ? position.accuracy : position.altitude) = value.toDouble();
    }

    if (position.latitude == 0.0 && position.longitude == 0.0 && !m_options.allowNoFix) {
        return reject(Rejection::NoFix,
                      QStringLiteral("latitude 0 and longitude 0 is what receivers report "
                                     "without a fix: send a point only once the device has one"));
    }
    return result;
}

} // namespace Omw
