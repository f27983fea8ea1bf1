#include "consolesettings.h"

#include "mapmath.h"
#include "tilesource.h"
#include "units.h"

namespace Omw {

namespace Key {
const QString serverUrl = QStringLiteral("server/url");
const QString tiles = QStringLiteral("map/tiles");
const QString tileCache = QStringLiteral("map/tileCacheMiB");
const QString mapLatitude = QStringLiteral("map/latitude");
const QString mapLongitude = QStringLiteral("map/longitude");
const QString mapZoom = QStringLiteral("map/zoom");
const QString speedUnit = QStringLiteral("display/speedUnit");
const QString staleAfter = QStringLiteral("display/staleAfterSeconds");
const QString followed = QStringLiteral("rides/followed");
const QString dispatchTokenFile = QStringLiteral("dispatch/tokenFile");
} // namespace Key

ConsoleSettings::ConsoleSettings(QObject *parent)
    : QObject(parent), m_settings(QStringLiteral("Omw"), QStringLiteral("omw-console"))
{
}

bool ConsoleSettings::store(const QString &key, const QVariant &value)
{
    if (m_settings.value(key) == value) {
        return false;
    }
    m_settings.setValue(key, value);
    return true;
}

QString ConsoleSettings::serverUrl() const
{
    return m_settings.value(Key::serverUrl, defaultServerUrl).toString();
}

void ConsoleSettings::setServerUrl(const QString &url)
{
    if (store(Key::serverUrl, url)) {
        Q_EMIT serverUrlChanged();
    }
}

QString ConsoleSettings::tiles() const
{
    return m_settings.value(Key::tiles, openStreetMapTemplate).toString();
}

void ConsoleSettings::setTiles(const QString &tiles)
{
    if (store(Key::tiles, tiles)) {
        Q_EMIT tilesChanged();
    }
}

int ConsoleSettings::tileCacheMiB() const
{
    return m_settings.value(Key::tileCache, 256).toInt();
}

void ConsoleSettings::setTileCacheMiB(int mebibytes)
{
    if (store(Key::tileCache, std::max(0, mebibytes))) {
        Q_EMIT tileCacheMiBChanged();
    }
}

QString ConsoleSettings::speedUnit() const
{
    const QString unit = m_settings.value(Key::speedUnit).toString();
    return Units::isSpeedUnit(unit) ? unit : QStringLiteral("km/h");
}

void ConsoleSettings::setSpeedUnit(const QString &unit)
{
    if (Units::isSpeedUnit(unit) && store(Key::speedUnit, unit)) {
        Q_EMIT speedUnitChanged();
    }
}

int ConsoleSettings::staleAfter() const
{
    return std::max(1, m_settings.value(Key::staleAfter, 60).toInt());
}

void ConsoleSettings::setStaleAfter(int seconds)
{
    if (store(Key::staleAfter, std::max(1, seconds))) {
        Q_EMIT staleAfterChanged();
    }
}

QStringList ConsoleSettings::followedRides() const
{
    return m_settings.value(Key::followed).toStringList();
}

void ConsoleSettings::setFollowedRides(const QStringList &slugs)
{
    if (store(Key::followed, slugs)) {
        Q_EMIT followedRidesChanged();
    }
}

QString ConsoleSettings::dispatchTokenFile() const
{
    return m_settings.value(Key::dispatchTokenFile).toString();
}

void ConsoleSettings::setDispatchTokenFile(const QString &path)
{
    if (store(Key::dispatchTokenFile, path)) {
        Q_EMIT dispatchTokenFileChanged();
    }
}

QGeoCoordinate ConsoleSettings::mapCenter() const
{
    const QVariant latitude = m_settings.value(Key::mapLatitude);
    const QVariant longitude = m_settings.value(Key::mapLongitude);
    if (!latitude.isValid() || !longitude.isValid()) {
        return QGeoCoordinate(48.1374, 11.5755); // Munich, until the dispatcher moves the map
    }
    return QGeoCoordinate(MapMath::clampLatitude(latitude.toDouble()),
                          MapMath::wrapLongitude(longitude.toDouble()));
}

void ConsoleSettings::setMapCenter(const QGeoCoordinate &center)
{
    if (!center.isValid()) {
        return;
    }
    const bool latitudeChanged = store(Key::mapLatitude, center.latitude());
    const bool longitudeChanged = store(Key::mapLongitude, center.longitude());
    if (latitudeChanged || longitudeChanged) {
        Q_EMIT mapCenterChanged();
    }
}

double ConsoleSettings::mapZoom() const
{
    return MapMath::clampZoom(m_settings.value(Key::mapZoom, 11.0).toDouble());
}

void ConsoleSettings::setMapZoom(double zoom)
{
    if (store(Key::mapZoom, MapMath::clampZoom(zoom))) {
        Q_EMIT mapZoomChanged();
    }
}

} // namespace Omw
