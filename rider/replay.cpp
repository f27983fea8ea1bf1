#include "replay.h"

#include <QDateTime>

#include <cmath>

namespace Omw::Rider {

namespace {

QString durationText(qint64 milliseconds)
{
    const qint64 seconds = milliseconds / 1000;
    if (seconds < 120)
        return QStringLiteral("%1 s").arg(seconds);
    const qint64 minutes = seconds / 60;
    if (minutes < 120)
        return QStringLiteral("%1 min").arg(minutes);
    const qint64 hours = minutes / 60;
    if (hours < 48)
        return QStringLiteral("%1 h %2 min").arg(hours).arg(minutes % 60);
    return QStringLiteral("%1 days %2 h").arg(hours / 24).arg(hours % 24);
}

} // namespace

QStringList ReplayPlan::summary() const
{
    QStringList lines;
    if (pausesShortened > 0) {
        lines.append(QStringLiteral("shortened %1 pauses in the recording (%2 skipped)")
                         .arg(pausesShortened)
                         .arg(durationText(pauseTimeSkipped)));
    }
    if (backwardJumps > 0) {
        lines.append(QStringLiteral("the recorded time jumps backwards at %1 places; the "
                                    "replay continues past each jump")
                         .arg(backwardJumps));
    }
    return lines;
}

ReplayPlan planReplay(const QList<Fix> &fixes, const ReplayOptions &options)
{
    ReplayPlan plan;
    plan.offsets.reserve(fixes.size());
    qint64 offset = 0;
    for (qsizetype i = 0; i < fixes.size(); ++i) {
        if (i > 0) {
            qint64 gap = fixes.at(i).position.timestamp - fixes.at(i - 1).position.timestamp;
            if (fixes.at(i).segment != fixes.at(i - 1).segment)
                ++plan.segmentBreaks;
            if (gap < 0) {
                ++plan.backwardJumps;
                gap = options.backwardGap;
            } else if (gap > options.maxPause) {
                ++plan.pausesShortened;
                plan.pauseTimeSkipped += gap - options.maxPause;
                gap = options.maxPause;
            }
            offset += gap;
        }
        plan.offsets.append(offset);
    }
    return plan;
}

Replayer::Replayer(const Track &track, const ReplayOptions &options, QObject *parent)
    : QObject(parent),
      m_track(track),
      m_options(options),
      m_plan(planReplay(track.fixes, options)),
      m_clock([] { return QDateTime::currentMSecsSinceEpoch(); })
{
    if (!(m_options.speedup > 0))
        m_options.speedup = 1.0;
    m_lapLength = m_plan.duration() + m_options.backwardGap;
    m_timer.setSingleShot(true);
    m_timer.setTimerType(Qt::PreciseTimer);
    connect(&m_timer, &QTimer::timeout, this, &Replayer::emitDueFixes);
}

qint64 Replayer::dueTime(int index, int lap) const
{
    const double recording = double(lap) * double(m_lapLength) + double(m_plan.offsets.at(index));
    return qint64(std::llround(recording / m_options.speedup));
}

void Replayer::start()
{
    if (m_running || m_track.fixes.isEmpty())
        return;
    m_running = true;
    m_next = 0;
    m_lap = 0;
    m_startTime = m_clock();
    m_elapsed.start();
    qCInfo(lcRider) << "replay started:" << m_track.fixes.size() << "fixes, speed-up"
                    << m_options.speedup << (m_options.loop ? "looped" : "once");
    emitDueFixes();
}

void Replayer::stop()
{
    if (!m_running)
        return;
    m_running = false;
    m_timer.stop();
    qCInfo(lcRider) << "replay stopped at fix" << m_next << "of lap" << m_lap;
}

void Replayer::emitDueFixes()
{
    while (m_running && dueTime(m_next, m_lap) <= m_elapsed.elapsed()) {
        const int index = m_next;
        const int lap = m_lap;
        Position position = m_track.fixes.at(index).position;
        if (!m_options.originalTimes)
            position.timestamp = m_startTime + dueTime(index, lap);
        if (++m_next == m_track.fixes.size()) {
            m_next = 0;
            ++m_lap;
            if (!m_options.loop)
                m_running = false;
        }
        emit positionReady(position, index, lap);
    }
    if (m_running) {
        scheduleNext();
    } else if (m_lap > 0 && !m_options.loop) {
        qCInfo(lcRider) << "replay finished";
        emit finished();
    }
}

void Replayer::scheduleNext()
{
    const qint64 wait = dueTime(m_next, m_lap) - m_elapsed.elapsed();
    m_timer.start(int(std::clamp<qint64>(wait, 0, 24 * 3600 * 1000)));
}

} // namespace Omw::Rider
