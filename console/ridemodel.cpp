#include "ridemodel.h"

#include "mapmath.h"
#include "units.h"

#include <QDateTime>
#include <QJsonArray>

Q_LOGGING_CATEGORY(lcRides, "omw.console.rides")

namespace Omw {

QGeoCoordinate Ride::coordinate() const
{
    return hasFix() ? QGeoCoordinate(last.latitude, last.longitude) : QGeoCoordinate();
}

double Ride::speed(bool *derived) const
{
    if (derived) {
        *derived = false;
    }
    if (last.hasSpeed() || trail.size() < 2) {
        return last.speed;
    }
    const Position &from = trail.at(trail.size() - 2);
    const Position &to = trail.constLast();
    const qint64 elapsed = to.timestamp - from.timestamp;
    if (elapsed <= 0) {
        return Position::unknown;
    }
    if (derived) {
        *derived = true;
    }
    return MapMath::distance(QGeoCoordinate(from.latitude, from.longitude),
                             QGeoCoordinate(to.latitude, to.longitude))
        / (double(elapsed) / 1000.0);
}

double Ride::heading(bool *derived) const
{
    if (derived) {
        *derived = false;
    }
    if (last.hasHeading() || trail.size() < 2) {
        return last.heading;
    }
    const QGeoCoordinate from(trail.at(trail.size() - 2).latitude,
                              trail.at(trail.size() - 2).longitude);
    const QGeoCoordinate to(trail.constLast().latitude, trail.constLast().longitude);
    if (MapMath::distance(from, to) < minimumCourseDistance) {
        return Position::unknown;
    }
    if (derived) {
        *derived = true;
    }
    return MapMath::bearing(from, to);
}

RideModel::RideModel(QObject *parent)
    : QAbstractListModel(parent), m_now(QDateTime::currentMSecsSinceEpoch())
{
    m_clock.setInterval(1000);
    connect(&m_clock, &QTimer::timeout, this,
            [this] { setNow(QDateTime::currentMSecsSinceEpoch()); });
    m_clock.start();
}

int RideModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rides.size());
}

QHash<int, QByteArray> RideModel::roleNames() const
{
    return {
        {SlugRole, "slug"},
        {StateRole, "rideState"},
        {StateTextRole, "rideStateText"},
        {MarkerRole, "marker"},
        {CoordinateRole, "coordinate"},
        {HasFixRole, "hasFix"},
        {SpeedRole, "speed"},
        {SpeedDerivedRole, "speedDerived"},
        {SpeedTextRole, "speedText"},
        {HeadingRole, "heading"},
        {HeadingDerivedRole, "headingDerived"},
        {HeadingTextRole, "headingText"},
        {TimestampRole, "timestamp"},
        {LastUpdateTextRole, "lastUpdateText"},
        {AgeRole, "age"},
        {AgeTextRole, "ageText"},
        {DistanceRole, "distance"},
        {DistanceTextRole, "distanceText"},
        {TrailLengthRole, "trailLength"},
        {SelectedRole, "selected"},
    };
}

RideModel::State RideModel::stateAt(int row) const
{
    const Ride &ride = m_rides.at(row);
    switch (ride.serverState) {
    case Ride::ServerState::Waiting:
        return Waiting;
    case Ride::ServerState::Offline:
        return Offline;
    case Ride::ServerState::Ended:
        return Ended;
    case Ride::ServerState::Live:
        break;
    }
    if (ride.hasFix() && (m_now - ride.last.timestamp) > qint64(m_staleAfter) * 1000) {
        return Stale;
    }
    return Live;
}

QString RideModel::stateName(State state)
{
    switch (state) {
    case Waiting:
        return QStringLiteral("waiting");
    case Live:
        return QStringLiteral("live");
    case Stale:
        return QStringLiteral("stale");
    case Offline:
        return QStringLiteral("offline");
    case Ended:
        return QStringLiteral("ended");
    }
    return QString();
}

QVariant RideModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid)) {
        return QVariant();
    }
    const Ride &ride = m_rides.at(index.row());
    const qint64 age
        = ride.hasFix() ? std::max<qint64>(0, (m_now - ride.last.timestamp) / 1000) : -1;
    switch (role) {
    case Qt::DisplayRole:
    case SlugRole:
        return ride.slug;
    case StateRole:
        return stateAt(index.row());
    case StateTextRole:
        return stateName(stateAt(index.row()));
    case MarkerRole: {
        if (!ride.hasFix()) {
            return NoMarker;
        }
        const double speed = ride.speed();
        if (!std::isnan(speed) && speed < stationarySpeed) {
            return StationaryMarker;
        }
        return std::isnan(ride.heading()) ? UnknownHeadingMarker : HeadingMarker;
    }
    case CoordinateRole:
        return QVariant::fromValue(ride.coordinate());
    case HasFixRole:
        return ride.hasFix();
    case SpeedRole:
        return ride.speed();
    case SpeedDerivedRole: {
        bool derived = false;
        ride.speed(&derived);
        return derived;
    }
    case SpeedTextRole: {
        bool derived = false;
        const double speed = ride.speed(&derived);
        const QString text = Units::formatSpeed(speed, m_speedUnit);
        return derived ? QString(QStringLiteral("≈ ") + text) : text;
    }
    case HeadingRole:
        return ride.heading();
    case HeadingDerivedRole: {
        bool derived = false;
        ride.heading(&derived);
        return derived;
    }
    case HeadingTextRole: {
        bool derived = false;
        const double heading = ride.heading(&derived);
        const QString text = Units::formatHeading(heading);
        return derived ? QString(QStringLiteral("≈ ") + text) : text;
    }
    case TimestampRole:
        return ride.last.timestamp;
    case LastUpdateTextRole:
        return ride.hasFix() ? Units::formatLocalTime(ride.last.timestamp, m_now)
                             : QStringLiteral("–");
    case AgeRole:
        return age;
    case AgeTextRole:
        return Units::formatAge(age);
    case DistanceRole:
        return ride.distance;
    case DistanceTextRole:
        return Units::formatDistance(ride.distance, m_speedUnit);
    case TrailLengthRole:
        return int(ride.trail.size());
    case SelectedRole:
        return ride.slug == m_selectedSlug;
    default:
        return QVariant();
    }
}

void RideModel::setSpeedUnit(const QString &unit)
{
    if (!Units::isSpeedUnit(unit)) {
        qCWarning(lcRides).noquote() << "ignoring unknown speed unit" << unit << "- use one of"
                                     << Units::speedUnits().join(QLatin1String(", "));
        return;
    }
    if (m_speedUnit == unit) {
        return;
    }
    m_speedUnit = unit;
    Q_EMIT speedUnitChanged();
    if (!m_rides.isEmpty()) {
        Q_EMIT dataChanged(index(0), index(rowCount() - 1), {SpeedTextRole, DistanceTextRole});
    }
}

void RideModel::setStaleAfter(int seconds)
{
    seconds = std::max(1, seconds);
    if (m_staleAfter != seconds) {
        m_staleAfter = seconds;
        Q_EMIT staleAfterChanged();
        if (!m_rides.isEmpty()) {
            Q_EMIT dataChanged(index(0), index(rowCount() - 1), {StateRole, StateTextRole});
        }
    }
}

void RideModel::setNow(qint64 epochMs)
{
    if (m_now == epochMs) {
        return;
    }
    m_now = epochMs;
    Q_EMIT nowChanged();
    if (!m_rides.isEmpty()) {
        Q_EMIT dataChanged(index(0), index(rowCount() - 1),
                           {StateRole, StateTextRole, AgeRole, AgeTextRole, LastUpdateTextRole});
    }
}

void RideModel::setClockRunning(bool running)
{
    if (running == m_clock.isActive()) {
        return;
    }
    if (running) {
        m_clock.start();
        setNow(QDateTime::currentMSecsSinceEpoch());
    } else {
        m_clock.stop();
    }
    Q_EMIT clockRunningChanged();
}

void RideModel::setSelectedSlug(const QString &slug)
{
    if (m_selectedSlug == slug) {
        return;
    }
    const int previous = indexOf(m_selectedSlug);
    m_selectedSlug = slug;
    if (previous >= 0) {
        Q_EMIT dataChanged(index(previous), index(previous), {SelectedRole});
    }
    const int current = indexOf(slug);
    if (current >= 0) {
        Q_EMIT dataChanged(index(current), index(current), {SelectedRole});
    }
    Q_EMIT selectedSlugChanged();
    Q_EMIT trailsChanged();
}

int RideModel::indexOf(const QString &slug) const
{
    for (int row = 0; row < m_rides.size(); ++row) {
        if (m_rides.at(row).slug == slug) {
            return row;
        }
    }
    return -1;
}

QStringList RideModel::slugs() const
{
    QStringList result;
    for (const Ride &ride : m_rides) {
        result.append(ride.slug);
    }
    return result;
}

QVariantList RideModel::coordinates() const
{
    QVariantList result;
    for (const Ride &ride : m_rides) {
        if (ride.hasFix()) {
            result.append(QVariant::fromValue(ride.coordinate()));
        }
    }
    return result;
}

QGeoCoordinate RideModel::coordinateOf(const QString &slug) const
{
    const int row = indexOf(slug);
    return row < 0 ? QGeoCoordinate() : m_rides.at(row).coordinate();
}

int RideModel::addRide(const QString &slug)
{
    const int existing = indexOf(slug);
    if (existing >= 0) {
        return existing;
    }
    const int row = rowCount();
    beginInsertRows(QModelIndex(), row, row);
    Ride ride;
    ride.slug = slug;
    m_rides.append(ride);
    endInsertRows();
    Q_EMIT countChanged();
    qCDebug(lcRides) << "ride" << slug << "added";
    return row;
}

bool RideModel::removeRide(const QString &slug)
{
    const int row = indexOf(slug);
    if (row < 0) {
        return false;
    }
    beginRemoveRows(QModelIndex(), row, row);
    m_rides.removeAt(row);
    endRemoveRows();
    Q_EMIT countChanged();
    Q_EMIT trailsChanged();
    if (slug == m_selectedSlug) {
        setSelectedSlug(QString());
    }
    return true;
}

void RideModel::clear()
{
    if (m_rides.isEmpty()) {
        return;
    }
    beginResetModel();
    m_rides.clear();
    endResetModel();
    Q_EMIT countChanged();
    Q_EMIT trailsChanged();
}

Ride::ServerState RideModel::parseServerState(const QString &state)
{
    if (state == QLatin1String("live")) {
        return Ride::ServerState::Live;
    }
    if (state == QLatin1String("offline")) {
        return Ride::ServerState::Offline;
    }
    if (state == QLatin1String("ended")) {
        return Ride::ServerState::Ended;
    }
    return Ride::ServerState::Waiting;
}

void RideModel::appendPoint(Ride &ride, const Position &position)
{
    if (!ride.trail.isEmpty()) {
        const Position &previous = ride.trail.constLast();
        ride.distance += MapMath::distance(QGeoCoordinate(previous.latitude, previous.longitude),
                                           QGeoCoordinate(position.latitude, position.longitude));
    }
    ride.trail.append(position);
    if (ride.trail.size() > maxTrailPoints) {
        ride.trail.remove(0, ride.trail.size() - maxTrailPoints);
    }
}

void RideModel::emitRowChanged(int row)
{
    Q_EMIT dataChanged(index(row), index(row));
    Q_EMIT trailsChanged();
}

bool RideModel::applySnapshot(const QJsonObject &snapshot)
{
    const QString slug = snapshot.value(QStringLiteral("slug")).toString();
    if (slug.isEmpty()) {
        qCWarning(lcRides) << "ignoring a snapshot without a slug";
        return false;
    }
    const int row = addRide(slug);
    Ride &ride = m_rides[row];
    const bool hadFix = ride.hasFix();
    ride.serverState = parseServerState(snapshot.value(QStringLiteral("state")).toString());
    ride.trail.clear();
    ride.distance = 0;
    ride.last = Position();
    const QJsonArray trail = snapshot.value(QStringLiteral("trail")).toArray();
    for (const QJsonValue &point : trail) {
        const Position position = Position::fromBroadcastPayload(point.toObject());
        if (!std::isnan(position.latitude) && !std::isnan(position.longitude)) {
            appendPoint(ride, position);
        }
    }
    const QJsonValue lastValue = snapshot.value(QStringLiteral("last"));
    if (lastValue.isObject()) {
        const Position last = Position::fromBroadcastPayload(lastValue.toObject());
        if (!std::isnan(last.latitude) && !std::isnan(last.longitude)) {
            if (ride.trail.isEmpty() || !ride.trail.constLast().sameFixAs(last)) {
                appendPoint(ride, last);
            }
            ride.last = last;
        }
    } else if (!ride.trail.isEmpty()) {
        ride.last = ride.trail.constLast();
    }
    if (ride.serverState != Ride::ServerState::Offline) {
        ride.offlineSince = 0;
    }
    qCDebug(lcRides) << "snapshot of" << slug << "state"
                     << snapshot.value(QStringLiteral("state")).toString() << "trail"
                     << ride.trail.size();
    emitRowChanged(row);
    if (!hadFix && ride.hasFix()) {
        Q_EMIT firstFixArrived(slug);
    }
    return true;
}

bool RideModel::applyCoordinates(const QString &slug, const QJsonObject &payload)
{
    const Position position = Position::fromBroadcastPayload(payload);
    if (std::isnan(position.latitude) || std::isnan(position.longitude)) {
        qCWarning(lcRides) << "ignoring NEW_COORDS for" << slug << "without a position";
        return false;
    }
    const int row = addRide(slug);
    Ride &ride = m_rides[row];
    if (ride.hasFix() && position.timestamp < ride.last.timestamp) {
        qCDebug(lcRides) << "ignoring an older point for" << slug;
        return false;
    }
    const bool hadFix = ride.hasFix();
    if (!hadFix || !ride.last.sameFixAs(position)) {
        appendPoint(ride, position);
    }
    ride.last = position;
    // A point means the rider is connected, whatever the last event reported.
    ride.serverState = Ride::ServerState::Live;
    ride.offlineSince = 0;
    emitRowChanged(row);
    if (!hadFix) {
        Q_EMIT firstFixArrived(slug);
    }
    return true;
}

bool RideModel::applyOffline(const QString &slug, qint64 since)
{
    const int row = indexOf(slug);
    if (row < 0) {
        return false;
    }
    m_rides[row].serverState = Ride::ServerState::Offline;
    m_rides[row].offlineSince = since;
    emitRowChanged(row);
    return true;
}

bool RideModel::applyOnline(const QString &slug)
{
    const int row = indexOf(slug);
    if (row < 0) {
        return false;
    }
    Ride &ride = m_rides[row];
    ride.serverState = ride.hasFix() ? Ride::ServerState::Live : Ride::ServerState::Waiting;
    ride.offlineSince = 0;
    emitRowChanged(row);
    return true;
}

bool RideModel::applyTerminated(const QString &slug)
{
    const int row = indexOf(slug);
    if (row < 0) {
        return false;
    }
    m_rides[row].serverState = Ride::ServerState::Ended;
    emitRowChanged(row);
    return true;
}

} // namespace Omw
