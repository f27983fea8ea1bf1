#include "livesource.h"

#include <QFile>
#include <QGeoPositionInfo>
#include <QGeoPositionInfoSource>
#include <QNmeaPositionInfoSource>
#include <QSerialPort>

#include <cmath>
#include <sys/stat.h>

namespace Omw::Rider {

bool positionFromInfo(const QGeoPositionInfo &info, Position *position, TrackQuirks *quirks)
{
    const QGeoCoordinate coordinate = info.coordinate();
    if (!info.isValid() || !coordinate.isValid()) {
        ++quirks->noFix;
        return false;
    }
    if (!info.timestamp().isValid()) {
        ++quirks->missingTime;
        return false;
    }
    if (coordinate.latitude() == 0 && coordinate.longitude() == 0) {
        ++quirks->nullIsland;
        return false;
    }
    Position result;
    result.latitude = coordinate.latitude();
    result.longitude = coordinate.longitude();
    result.altitude = std::isnan(coordinate.altitude()) ? Position::unknown : coordinate.altitude();
    result.timestamp = info.timestamp().toMSecsSinceEpoch();
    if (info.hasAttribute(QGeoPositionInfo::GroundSpeed)
        && info.attribute(QGeoPositionInfo::GroundSpeed) >= 0) {
        result.speed = info.attribute(QGeoPositionInfo::GroundSpeed);
    } else {
        ++quirks->unknownSpeed;
    }
    if (info.hasAttribute(QGeoPositionInfo::Direction))
        result.heading = normalizedHeading(info.attribute(QGeoPositionInfo::Direction));
    if (!result.hasHeading())
        ++quirks->unknownHeading;
    if (info.hasAttribute(QGeoPositionInfo::HorizontalAccuracy)
        && info.attribute(QGeoPositionInfo::HorizontalAccuracy) >= 0) {
        result.accuracy = info.attribute(QGeoPositionInfo::HorizontalAccuracy);
    }
    *position = result;
    return true;
}

LiveSource::LiveSource(QObject *parent) : QObject(parent) { }

LiveSource::~LiveSource() = default;

bool LiveSource::openDevice(const QString &path, int baudRate, QString *errorString)
{
    struct stat status = {};
    if (::stat(QFile::encodeName(path).constData(), &status) != 0) {
        *errorString = tr("the device %1 does not exist").arg(path);
        return false;
    }
    if (!S_ISCHR(status.st_mode)) {
        *errorString = tr("%1 is not a serial device; to replay a recorded log, give it as FILE "
                          "instead of --device")
                           .arg(path);
        return false;
    }
    // QSerialPort accepts a full path and sets up any terminal device, a pseudo-terminal too.
    auto *port = new QSerialPort(path, this);
    port->setBaudRate(baudRate);
    if (!port->open(QIODevice::ReadOnly)) {
        *errorString = tr("cannot open the serial port %1: %2").arg(path, port->errorString());
        delete port;
        return false;
    }
    m_device = port;
    auto *source = new QNmeaPositionInfoSource(QNmeaPositionInfoSource::RealTimeMode, this);
    source->setDevice(port);
    attach(source);
    qCInfo(lcRider).noquote() << "reading NMEA from" << path << "at" << baudRate << "baud";
    return true;
}

bool LiveSource::openSystemSource(QString *errorString)
{
    QGeoPositionInfoSource *source = QGeoPositionInfoSource::createDefaultSource(this);
    if (!source) {
        *errorString = tr("this system has no position source (Qt Positioning found no plugin); "
                          "use --device PATH or a recorded FILE");
        return false;
    }
    qCInfo(lcRider).noquote() << "using the system position source" << source->sourceName();
    attach(source);
    return true;
}

void LiveSource::attach(QGeoPositionInfoSource *source)
{
    m_source = source;
    connect(source, &QGeoPositionInfoSource::positionUpdated, this, &LiveSource::handleUpdate);
    connect(source, &QGeoPositionInfoSource::errorOccurred, this,
            [this](QGeoPositionInfoSource::Error error) {
                if (error == QGeoPositionInfoSource::NoError)
                    return;
                qCWarning(lcRider) << "position source error" << error;
                emit failed(tr("the position source failed (error %1)").arg(int(error)));
            });
}

void LiveSource::start()
{
    if (m_source)
        m_source->startUpdates();
}

void LiveSource::stop()
{
    if (m_source)
        m_source->stopUpdates();
}

void LiveSource::handleUpdate(const QGeoPositionInfo &info)
{
    // Each kind of quirk is reported the first time it occurs; main() prints the totals at the
    // end from quirks().
    static constexpr int TrackQuirks::*kinds[] = {
        &TrackQuirks::noFix,        &TrackQuirks::missingTime,    &TrackQuirks::nullIsland,
        &TrackQuirks::unknownSpeed, &TrackQuirks::unknownHeading,
    };
    const TrackQuirks before = m_quirks;
    Position position;
    const bool ok = positionFromInfo(info, &position, &m_quirks);
    for (int TrackQuirks::*kind : kinds) {
        if (before.*kind == 0 && m_quirks.*kind > 0) {
            TrackQuirks first;
            first.*kind = 1;
            emit quirkFound(first.summary().constFirst());
        }
    }
    if (ok)
        emit positionReady(position);
}

} // namespace Omw::Rider
