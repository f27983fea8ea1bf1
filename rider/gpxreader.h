#pragma once

#include "track.h"

QT_BEGIN_NAMESPACE
class QIODevice;
class QXmlStreamReader;
QT_END_NAMESPACE

namespace Omw::Rider {

// Reads the track points of a GPX 1.0 or 1.1 document with QXmlStreamReader, in document order.
//
// Each <trkpt> gives one fix: lat and lon attributes, <ele>, <time>, and <speed> (m/s) and
// <course> (degrees) in any namespace, so GPX 1.0 elements and GPX 1.1 extensions both count.
// Points without a time, or with <fix>none</fix>, are skipped.
// NOTE: a file in which no point has a time (a route drawn on a map) therefore yields no fix;
// pacing such points at a nominal speed is not implemented. Routes and waypoints are not
// fixes and are ignored.
class GpxReader
{
public:
    static std::optional<Track> read(QIODevice *device, QString *errorString);

private:
    void readPoint(QXmlStreamReader &xml, int segment);

    Track m_track;
};

} // namespace Omw::Rider
