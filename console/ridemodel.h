#pragma once

#include "position.h"

#include <QAbstractListModel>
#include <QGeoCoordinate>
#include <QJsonObject>
#include <QLoggingCategory>
#include <QTimer>
#include <QVector>
#include <QtQml/qqmlregistration.h>

Q_DECLARE_LOGGING_CATEGORY(lcRides)

namespace Omw {

// One ride as the console tracks it.
struct Ride
{
    // The ride's state as the server last reported it (the snapshot's `state` and the broadcasts).
    enum class ServerState { Waiting, Live, Offline, Ended };

    QString slug;
    ServerState serverState = ServerState::Waiting;
    Position last; // latitude NaN until the first fix
    QVector<Position> trail; // time order, the newest last, at most RideModel::maxTrailPoints
    double distance = 0; // metres along the trail, including points dropped from its front
    qint64 offlineSince = 0; // epoch ms of RIDER_OFFLINE, 0 when online

    bool hasFix() const { return !std::isnan(last.latitude) && !std::isnan(last.longitude); }
    QGeoCoordinate coordinate() const;
    // The reported speed, else the speed between the last two trail points; NaN when neither
    // is known. `derived` is set to true for the derived speed.
    double speed(bool *derived = nullptr) const;
    // The reported heading, else the bearing from the second last trail point to the last one
    // when they are at least minimumCourseDistance apart; NaN otherwise. `derived` is set to
    // true for the derived heading.
    double heading(bool *derived = nullptr) const;

    // Below this distance in metres, GPS noise makes a course from two points meaningless.
    static constexpr double minimumCourseDistance = 10;
};

// The rides the console shows, fed by RideTracker (or by tests) through the apply*() calls with
// the payloads of the wire protocol. Besides raw values it offers display texts in the chosen
// speed unit and the local time zone. Ages are measured against `now`, which a one-second clock
// advances while `clockRunning` is true.
class RideModel : public QAbstractListModel
{
    Q_OBJECT
    QML_ELEMENT
    Q_PROPERTY(int count READ rowCount NOTIFY countChanged)
    Q_PROPERTY(QString speedUnit READ speedUnit WRITE setSpeedUnit NOTIFY speedUnitChanged)
    Q_PROPERTY(int staleAfter READ staleAfter WRITE setStaleAfter NOTIFY staleAfterChanged)
    Q_PROPERTY(double now READ nowForQml WRITE setNowFromQml NOTIFY nowChanged)
    Q_PROPERTY(
        bool clockRunning READ isClockRunning WRITE setClockRunning NOTIFY clockRunningChanged)
    Q_PROPERTY(
        QString selectedSlug READ selectedSlug WRITE setSelectedSlug NOTIFY selectedSlugChanged)

public:
    // The state shown for a ride: the server's state, with Live turned into Stale when the
    // last fix is older than `staleAfter` seconds.
    enum State { Waiting, Live, Stale, Offline, Ended };
    Q_ENUM(State)
    // The marker the map draws: an arrow turned to the heading, a dot for a stationary ride,
    // a ring with a question mark when it moves without a known heading, nothing without a fix.
    // Speed and heading derived from the trail count as known.
    enum Marker { NoMarker, HeadingMarker, StationaryMarker, UnknownHeadingMarker };
    Q_ENUM(Marker)
    enum Role {
        SlugRole = Qt::UserRole + 1,
        StateRole,
        StateTextRole,
        MarkerRole,
        CoordinateRole,
        HasFixRole,
        SpeedRole, // m/s, NaN when unknown; derived from the trail when not reported
        SpeedDerivedRole,
        SpeedTextRole, // "≈ " in front when derived
        HeadingRole, // degrees, NaN when unknown; derived from the trail when not reported
        HeadingDerivedRole,
        HeadingTextRole,
        TimestampRole, // epoch ms of the last fix
        LastUpdateTextRole,
        AgeRole, // seconds since the last fix, -1 without one
        AgeTextRole,
        DistanceRole, // metres
        DistanceTextRole,
        TrailLengthRole,
        SelectedRole,
    };
    Q_ENUM(Role)

    // Below this speed (m/s, 1.8 km/h) a ride counts as stationary.
    static constexpr double stationarySpeed = 0.5;
    static constexpr int maxTrailPoints = 5000;

    explicit RideModel(QObject *parent = nullptr);

    int rowCount(const QModelIndex &parent = QModelIndex()) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QHash<int, QByteArray> roleNames() const override;

    QString speedUnit() const { return m_speedUnit; }
    void setSpeedUnit(const QString &unit);
    int staleAfter() const { return m_staleAfter; }
    void setStaleAfter(int seconds);
    qint64 now() const { return m_now; }
    void setNow(qint64 epochMs);
    // QML in Qt 6.4 cannot assign 64-bit integer properties; epoch ms are exact in a double.
    double nowForQml() const { return double(m_now); }
    void setNowFromQml(double epochMs) { setNow(qint64(epochMs)); }
    bool isClockRunning() const { return m_clock.isActive(); }
    void setClockRunning(bool running);
    QString selectedSlug() const { return m_selectedSlug; }
    void setSelectedSlug(const QString &slug);

    const Ride &rideAt(int row) const { return m_rides.at(row); }
    State stateAt(int row) const;
    Q_INVOKABLE int indexOf(const QString &slug) const;
    Q_INVOKABLE bool contains(const QString &slug) const { return indexOf(slug) >= 0; }
    Q_INVOKABLE QStringList slugs() const;
    // Coordinates of every ride with a fix, for "fit all".
    Q_INVOKABLE QVariantList coordinates() const;
    Q_INVOKABLE QGeoCoordinate coordinateOf(const QString &slug) const;

    // Adds a ride in state Waiting, or does nothing when it is listed. Returns its row.
    Q_INVOKABLE int addRide(const QString &slug);
    Q_INVOKABLE bool removeRide(const QString &slug);
    Q_INVOKABLE void clear();
    // A follower join reply or one entry of the dispatch join reply:
    // {"slug", "state", "last", "trail"}. Replaces what was known about the ride.
    Q_INVOKABLE bool applySnapshot(const QJsonObject &snapshot);
    // A NEW_COORDS broadcast. Points older than the current one are ignored.
    Q_INVOKABLE bool applyCoordinates(const QString &slug, const QJsonObject &payload);
    Q_INVOKABLE bool applyOffline(const QString &slug, qint64 since);
    Q_INVOKABLE bool applyOnline(const QString &slug);
    Q_INVOKABLE bool applyTerminated(const QString &slug);

    static QString stateName(State state);

Q_SIGNALS:
    void countChanged();
    void speedUnitChanged();
    void staleAfterChanged();
    void nowChanged();
    void clockRunningChanged();
    void selectedSlugChanged();
    // A ride's position or trail changed; the trail layer repaints on it.
    void trailsChanged();
    // The first fix of a ride arrived (from a snapshot or a broadcast).
    void firstFixArrived(const QString &slug);

private:
    static Ride::ServerState parseServerState(const QString &state);
    void appendPoint(Ride &ride, const Position &position);
    void emitRowChanged(int row);

    QVector<Ride> m_rides;
    QString m_speedUnit = QStringLiteral("km/h");
    QString m_selectedSlug;
    int m_staleAfter = 60;
    qint64 m_now = 0;
    QTimer m_clock;
};

} // namespace Omw
