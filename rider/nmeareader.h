#pragma once

#include "track.h"

#include <QByteArray>
#include <QDate>

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Omw::Rider {

// Reads an NMEA 0183 log into fixes.
//
// Recorded logs are parsed here, sentence by sentence, instead of through
// QNmeaPositionInfoSource: its SimulationMode replays a log at the log's own pace (2.5 minutes
// for a 2.5-minute log), and it drops bad sentences silently, so neither speed-ups nor exact
// counts of each quirk would be possible. The live receiver (--device) does use
// QNmeaPositionInfoSource in RealTimeMode.
//
// One fix per RMC sentence with status A: position, ground speed (knots, converted to m/s),
// course and date. A GGA of the same time adds the altitude above mean sea level, and a GST of
// the same time adds the horizontal accuracy (the root sum square of the latitude and
// longitude standard deviations). Any talker (GP, GN, GL, ...) is accepted. Sentences with a
// wrong checksum are dropped; a sentence without a checksum is accepted.
class NmeaReader
{
public:
    static Track read(QIODevice *device);

    // Checks `*hh` against the XOR of the characters between `$` and `*`. A sentence without
    // `*` has no checksum and passes.
    static bool hasValidChecksum(QByteArrayView sentence);

    static constexpr double metresPerSecondPerKnot = 1852.0 / 3600.0;

private:
    void readLine(QByteArray line);
    void readRmc(const QList<QByteArray> &fields);
    void readGga(const QList<QByteArray> &fields);
    void readGst(const QList<QByteArray> &fields);
    void startEpoch(const QByteArray &time);

    Track m_track;
    QByteArray m_epochTime; // hhmmss.ss of the sentences being merged
    int m_epochFix = -1; // index in m_track.fixes of the RMC fix of this epoch, or -1
    double m_epochAltitude = Position::unknown;
    double m_epochAccuracy = Position::unknown;
};

} // namespace Omw::Rider
