#pragma once

#include "track.h"

#include <QObject>
#include <QPointer>

QT_BEGIN_NAMESPACE
class QGeoPositionInfo;
class QGeoPositionInfoSource;
class QIODevice;
QT_END_NAMESPACE

namespace Omw::Rider {

// Converts a Qt Positioning update into a fix. Returns false for an update that is not a fix
// (invalid coordinate or no time); `quirks` counts why.
bool positionFromInfo(const QGeoPositionInfo &info, Position *position, TrackQuirks *quirks);

// Positions from a live source: an NMEA 0183 receiver on a serial device (through
// QNmeaPositionInfoSource in RealTimeMode) or the system's default position source.
class LiveSource : public QObject
{
    Q_OBJECT

public:
    explicit LiveSource(QObject *parent = nullptr);
    ~LiveSource() override;

    // Opens the serial device `path` (a terminal device such as /dev/ttyUSB0) at `baudRate`.
    bool openDevice(const QString &path, int baudRate, QString *errorString);
    bool openSystemSource(QString *errorString);

    const TrackQuirks &quirks() const { return m_quirks; }

    void start();
    void stop();

Q_SIGNALS:
    void positionReady(const Omw::Position &position);
    // A kind of quirk occurred for the first time. `line` describes what happens to such fixes.
    void quirkFound(const QString &line);
    void failed(const QString &errorString);

private:
    void attach(QGeoPositionInfoSource *source);
    void handleUpdate(const QGeoPositionInfo &info);

    QPointer<QIODevice> m_device;
    QPointer<QGeoPositionInfoSource> m_source;
    TrackQuirks m_quirks;
};

} // namespace Omw::Rider
