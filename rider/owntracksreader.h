#pragma once

#include "track.h"

QT_BEGIN_NAMESPACE
class QIODevice;
QT_END_NAMESPACE

namespace Omw::Rider {

// Reads OwnTracks location records: the recorder's `.rec` lines
// (`<receive time>\t<topic>\t<JSON>`) or bare JSON lines as the apps publish them.
//
// Only `_type: "location"` records become fixes. The fix time is the device's `tst` (epoch
// seconds), not the recorder's receive time, because the app queues fixes while offline and
// delivers them in bursts. `vel` is km/h and becomes m/s; `vel` or `cog` of -1 means unknown.
// `acc` is the horizontal accuracy in metres and `alt` the altitude in metres.
class OwnTracksReader
{
public:
    static Track read(QIODevice *device);

    static constexpr double metresPerSecondPerKmh = 1000.0 / 3600.0;

private:
    void readLine(const QByteArray &line);

    Track m_track;
};

} // namespace Omw::Rider
