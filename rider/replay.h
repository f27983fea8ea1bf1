#pragma once

#include "track.h"

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

#include <functional>

namespace Omw::Rider {

// When each fix of a recording is due in a replay, in milliseconds from the start of the replay
// at normal speed, and what had to be adjusted on the way.
struct ReplayPlan
{
    QList<qint64> offsets; // one per fix, non-decreasing, offsets[0] == 0
    int pausesShortened = 0; // gaps longer than the maximum pause, shortened to it
    qint64 pauseTimeSkipped = 0; // milliseconds removed by shortening them
    int backwardJumps = 0; // places where the recorded time goes backwards
    int segmentBreaks = 0; // places where a new track segment starts

    qint64 duration() const { return offsets.isEmpty() ? 0 : offsets.last(); }
    QStringList summary() const;
};

struct ReplayOptions
{
    // Maximum gap between two fixes that a replay keeps, in recording milliseconds. A recording
    // that stops for half an hour (a saved track, a timer stop, a ride on another day) would
    // otherwise keep followers waiting that long.
    qint64 maxPause = 60'000;
    // Gap used where the recorded time goes backwards (excerpts or rides on different days
    // joined in one file): the replay goes on as if the next fix came this much later.
    qint64 backwardGap = 1'000;
    // 2 replays twice as fast. NOTE: nothing caps the resulting message rate, so a 1 Hz track
    // above a speed-up of about 100 meets the server's per-connection rate limit and its
    // `rate_limited` rejections.
    double speedup = 1.0;
    bool loop = false; // start again after the last fix, forever
    bool originalTimes = false; // stamp fixes with their recorded times
};

// Computes the replay offsets of `fixes`. Pure, so that tests can check it exactly.
ReplayPlan planReplay(const QList<Fix> &fixes, const ReplayOptions &options);

// Replays a recorded track in real time, divided by the speed-up, and emits each fix when it is
// due. A fix is stamped with the replay's clock: the replay's start time plus the fix's offset
// divided by the speed-up, so a replay looks like a ride happening now. With originalTimes the
// recorded time is kept. A loop continues the clock, so timestamps keep increasing.
class Replayer : public QObject
{
    Q_OBJECT

public:
    Replayer(const Track &track, const ReplayOptions &options, QObject *parent = nullptr);

    const ReplayPlan &plan() const { return m_plan; }
    const ReplayOptions &options() const { return m_options; }
    bool isRunning() const { return m_running; }

    // The wall clock in UTC epoch milliseconds; tests inject a fixed one.
    using Clock = std::function<qint64()>;
    void setClock(Clock clock) { m_clock = std::move(clock); }

    void start();
    void stop();

Q_SIGNALS:
    // `index` is the fix's index in the track and `lap` counts loops from 0.
    void positionReady(const Omw::Position &position, int index, int lap);
    void finished();

private:
    void emitDueFixes();
    void scheduleNext();
    qint64 dueTime(int index, int lap) const; // wall milliseconds after the start

    Track m_track;
    ReplayOptions m_options;
    ReplayPlan m_plan;
    Clock m_clock;
    QTimer m_timer;
    QElapsedTimer m_elapsed;
    qint64 m_startTime = 0;
    qint64 m_lapLength = 0; // recording milliseconds from one lap's start to the next
    int m_next = 0;
    int m_lap = 0;
    bool m_running = false;
};

} // namespace Omw::Rider
