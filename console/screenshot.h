#pragma once

#include <QObject>
#include <QPointer>
#include <QTimer>

class QQuickItem;
class QQuickWindow;

namespace Omw {

class RideModel;

// Implements `--screenshot FILE`: waits until a ride with a fix is on the map, its marker is
// placed and every visible tile is drawn, then saves the window as PNG and prints the map
// state as one JSON object on standard output, so that tests can check where each marker
// must be. Emits finished() with the process exit code: 0 when saved, 1 on error or timeout.
class ScreenshotTaker : public QObject
{
    Q_OBJECT
public:
    ScreenshotTaker(QQuickWindow *window, RideModel *model, const QString &path, int timeoutSeconds,
                    QObject *parent = nullptr);

    void start();

Q_SIGNALS:
    void finished(int exitCode);

private:
    bool isReady() const;
    void poll();
    void capture();
    QByteArray describe() const;

    QPointer<QQuickWindow> m_window;
    QPointer<RideModel> m_model;
    QString m_path;
    QTimer m_poll;
    QTimer m_timeout;
    int m_readyPolls = 0;
    bool m_captureRequested = false;
};

} // namespace Omw
