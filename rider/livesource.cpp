#include "livesource.h"

#include <QFile>
#include <QFileInfo>
#include <QGeoPositionInfo>
#include <QGeoPositionInfoSource>
#include <QNmeaPositionInfoSource>
#include <QSerialPort>

#include <cmath>

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
    const QFileInfo info(path);
    if (!info.exists()) {
        *errorString = tr("the device %1 does not exist").arg(path);
        return false;
    }
    QIODevice *device = nullptr;
    if (path.startsWith(QLatin1String("/dev/tty"))
        || path.startsWith(QLatin1String("/dev/rfcomm"))) {
        auto *port = new QSerialPort(path, this);
        port->setBaudRate(baudRate);
        if (!port->open(QIODevice::ReadOnly)) {
            *errorString = tr("cannot open the serial port %1: %2").arg(path, port->errorString());
            delete port;
            return false;
        }
        device = port;
    } else {
        auto *file = new QFile(path, this);
        if (!file->open(QIODevice::ReadOnly)) {
            *errorString = tr("cannot open %1: %2").arg(path, file->errorString());
            delete file;
            return false;
        }
        device = file;
    }
    m_device = device;
    auto *source = new QNmeaPositionInfoSource(QNmeaPositionInfoSource::RealTimeMode, this);
    source->setDevice(device);
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
    Position position;
    const bool ok = positionFromInfo(info, &position, &m_quirks);
    // Each kind of quirk is reported the first time it occurs; the totals follow at the end.
    for (const QString &line : m_quirks.summary()) {
        const QString kind = line.section(QLatin1Char(' '), 2);
        if (!m_reported.contains(kind)) {
            m_reported.append(kind);
            emit quirkFound(line);
        }
    }
    if (ok)
        emit positionReady(position);
}

} // namespace Omw::Rider
