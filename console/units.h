#pragma once

#include <QString>
#include <QStringList>

// Formatting of ride values for display. Inputs are SI units (metres, metres per second,
// degrees, seconds) and UTC epoch milliseconds; output follows the dispatcher's chosen speed
// unit and local time zone.
namespace Omw::Units {

// The accepted speed unit names: "km/h", "mph", "kn".
QStringList speedUnits();
bool isSpeedUnit(const QString &unit);

// Speed in `unit` (km/h when the unit is unknown), NaN when speed is unknown.
double convertSpeed(double metresPerSecond, const QString &unit);
// "37 km/h", or "–" when unknown.
QString formatSpeed(double metresPerSecond, const QString &unit);
// Distances follow the speed unit: km for km/h, miles for mph, nautical miles for kn.
QString formatDistance(double metres, const QString &speedUnit);
// "NE 47°", or "–" when unknown.
QString formatHeading(double degrees);
// The eight-point compass name of a heading: N, NE, E, ...
QString compassPoint(double degrees);
// "now", "12 s", "4 min", "2 h 05 min"; "–" for a negative age (no fix).
QString formatAge(qint64 seconds);
// Local wall-clock time, "14:03:07", with the date in front when it is not `nowMs`'s day.
QString formatLocalTime(qint64 epochMs, qint64 nowMs);

} // namespace Omw::Units
