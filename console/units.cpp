#include "units.h"

#include <QDateTime>
#include <QLocale>

#include <cmath>

namespace Omw::Units {

namespace {

const QString unknownValue = QStringLiteral("–");

} // namespace

QStringList speedUnits()
{
    return {QStringLiteral("km/h"), QStringLiteral("mph"), QStringLiteral("kn")};
}

bool isSpeedUnit(const QString &unit)
{
    return speedUnits().contains(unit);
}

double convertSpeed(double metresPerSecond, const QString &unit)
{
    if (unit == QLatin1String("mph")) {
        return metresPerSecond * 3600.0 / 1609.344;
    }
    if (unit == QLatin1String("kn")) {
        return metresPerSecond * 3600.0 / 1852.0;
    }
    return metresPerSecond * 3.6;
}

QString formatSpeed(double metresPerSecond, const QString &unit)
{
    if (std::isnan(metresPerSecond) || metresPerSecond < 0) {
        return unknownValue;
    }
    const QString name = isSpeedUnit(unit) ? unit : QStringLiteral("km/h");
    return QStringLiteral("%1 %2").arg(std::lround(convertSpeed(metresPerSecond, name))).arg(name);
}

QString formatDistance(double metres, const QString &speedUnit)
{
    if (std::isnan(metres) || metres < 0) {
        return unknownValue;
    }
    double value = metres / 1000.0;
    QString name = QStringLiteral("km");
    if (speedUnit == QLatin1String("mph")) {
        value = metres / 1609.344;
        name = QStringLiteral("mi");
    } else if (speedUnit == QLatin1String("kn")) {
        value = metres / 1852.0;
        name = QStringLiteral("nmi");
    }
    const int decimals = value < 100 ? 1 : 0;
    return QStringLiteral("%1 %2").arg(value, 0, 'f', decimals).arg(name);
}

QString compassPoint(double degrees)
{
    static const char *const points[] = {"N", "NE", "E", "SE", "S", "SW", "W", "NW"};
    const int index
        = int(std::lround(std::fmod(std::fmod(degrees, 360.0) + 360.0, 360.0) / 45.0)) % 8;
    return QString::fromLatin1(points[index]);
}

QString formatHeading(double degrees)
{
    if (std::isnan(degrees) || degrees < 0) {
        return unknownValue;
    }
    return QStringLiteral("%1 %2°").arg(compassPoint(degrees)).arg(std::lround(degrees) % 360);
}

QString formatAge(qint64 seconds)
{
    if (seconds < 0) {
        return unknownValue;
    }
    if (seconds < 3) {
        return QStringLiteral("now");
    }
    if (seconds < 60) {
        return QStringLiteral("%1 s").arg(seconds);
    }
    if (seconds < 3600) {
        return QStringLiteral("%1 min").arg(seconds / 60);
    }
    return QStringLiteral("%1 h %2 min")
        .arg(seconds / 3600)
        .arg((seconds % 3600) / 60, 2, 10, QLatin1Char('0'));
}

QString formatLocalTime(qint64 epochMs, qint64 nowMs)
{
    if (epochMs <= 0) {
        return unknownValue;
    }
    const QDateTime time = QDateTime::fromMSecsSinceEpoch(epochMs).toLocalTime();
    const QDateTime now = QDateTime::fromMSecsSinceEpoch(nowMs).toLocalTime();
    const QString clock = time.toString(QStringLiteral("HH:mm:ss"));
    if (time.date() == now.date()) {
        return clock;
    }
    return time.toString(QStringLiteral("yyyy-MM-dd ")) + clock;
}

} // namespace Omw::Units
