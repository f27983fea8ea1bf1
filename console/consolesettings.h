#pragma once

#include <QGeoCoordinate>
#include <QObject>
#include <QSettings>
#include <QStringList>
#include <QtQml/qqmlregistration.h>

namespace Omw {

// The console's persistent settings (QSettings, organisation "Omw", application
// "omw-console"). Every setter writes through at once, so a crash loses nothing. Secrets are
// never stored: the dispatcher token stays in its file and only the file's path is kept.
class ConsoleSettings : public QObject
{
    Q_OBJECT
    QML_ELEMENT
    QML_UNCREATABLE("The console creates its settings")
    Q_PROPERTY(QString serverUrl READ serverUrl WRITE setServerUrl NOTIFY serverUrlChanged)
    Q_PROPERTY(QString tiles READ tiles WRITE setTiles NOTIFY tilesChanged)
    Q_PROPERTY(int tileCacheMiB READ tileCacheMiB WRITE setTileCacheMiB NOTIFY tileCacheMiBChanged)
    Q_PROPERTY(QString speedUnit READ speedUnit WRITE setSpeedUnit NOTIFY speedUnitChanged)
    Q_PROPERTY(int staleAfter READ staleAfter WRITE setStaleAfter NOTIFY staleAfterChanged)
    Q_PROPERTY(QStringList followedRides READ followedRides WRITE setFollowedRides NOTIFY
                   followedRidesChanged)
    Q_PROPERTY(QString dispatchTokenFile READ dispatchTokenFile WRITE setDispatchTokenFile NOTIFY
                   dispatchTokenFileChanged)
    Q_PROPERTY(QGeoCoordinate mapCenter READ mapCenter WRITE setMapCenter NOTIFY mapCenterChanged)
    Q_PROPERTY(double mapZoom READ mapZoom WRITE setMapZoom NOTIFY mapZoomChanged)

public:
    static inline const QString defaultServerUrl = QStringLiteral("ws://127.0.0.1:4000/socket");

    explicit ConsoleSettings(QObject *parent = nullptr);

    QString serverUrl() const;
    void setServerUrl(const QString &url);
    // `none`, a path to an .mbtiles file, or an HTTP URL template; OpenStreetMap by default.
    QString tiles() const;
    void setTiles(const QString &tiles);
    int tileCacheMiB() const;
    void setTileCacheMiB(int mebibytes);
    QString speedUnit() const;
    void setSpeedUnit(const QString &unit);
    // Seconds without a fix after which a live ride is shown as stale.
    int staleAfter() const;
    void setStaleAfter(int seconds);
    QStringList followedRides() const;
    void setFollowedRides(const QStringList &slugs);
    QString dispatchTokenFile() const;
    void setDispatchTokenFile(const QString &path);
    QGeoCoordinate mapCenter() const;
    void setMapCenter(const QGeoCoordinate &center);
    double mapZoom() const;
    void setMapZoom(double zoom);

Q_SIGNALS:
    void serverUrlChanged();
    void tilesChanged();
    void tileCacheMiBChanged();
    void speedUnitChanged();
    void staleAfterChanged();
    void followedRidesChanged();
    void dispatchTokenFileChanged();
    void mapCenterChanged();
    void mapZoomChanged();

private:
    bool store(const QString &key, const QVariant &value);

    QSettings m_settings;
};

} // namespace Omw
