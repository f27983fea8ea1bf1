#pragma once

// The built omw-server binary as a fault test sees it: started with short periods, killed with
// SIGKILL, restarted on the same port, and observed from outside through /metrics and /proc.
// Its standard error goes to a file, so a server that logs every connection of a long test never
// blocks on a full pipe.

#include <QDeadlineTimer>
#include <QDir>
#include <QFile>
#include <QHash>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QTcpSocket>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>
#include <sys/prctl.h>
#include <sys/types.h>

class FaultServer
{
public:
    static QString binaryPath() { return QStringLiteral(OMW_BINARY_DIR "/server/omw-server"); }

    FaultServer()
    {
        // A test that crashes must not leave its server running.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    }
    ~FaultServer() { stop(); }

    // Starts the server on `port` (0 picks a free one) and waits for its "listening on" line.
    // Returns false with errorString() set when it exits or does not listen within 20 s.
    bool start(quint16 port, const QStringList &arguments)
    {
        m_logPath = m_logDir.filePath(QStringLiteral("omw-server-%1.log").arg(++m_starts));
        m_process.setStandardErrorFile(m_logPath);
        m_process.setStandardOutputFile(QProcess::nullDevice());
        m_process.start(binaryPath(),
                        QStringList {QStringLiteral("--port"), QString::number(port)} + arguments);
        if (!m_process.waitForStarted(5000)) {
            m_errorString
                = QStringLiteral("cannot start %1: %2").arg(binaryPath(), m_process.errorString());
            return false;
        }
        static const QRegularExpression listening(
            QStringLiteral("listening on ws://[^\\s]*:(\\d+)/socket"));
        const QDeadlineTimer deadline(20'000);
        while (!deadline.hasExpired()) {
            if (m_process.state() != QProcess::Running) {
                m_errorString = QStringLiteral("omw-server exited: %1").arg(log());
                return false;
            }
            const QRegularExpressionMatch match = listening.match(log());
            if (match.hasMatch()) {
                m_port = quint16(match.captured(1).toUInt());
                return true;
            }
            QTest::qWait(20);
        }
        m_errorString = QStringLiteral("omw-server did not listen within 20 s: %1").arg(log());
        return false;
    }

    // Kills the server with SIGKILL: no close frame, no 1001, the kernel closes every socket.
    void kill()
    {
        m_process.kill();
        m_process.waitForFinished(5000);
    }

    // Stops the server with SIGTERM. Returns its exit code, or -1 when it crashed or hung.
    int stop()
    {
        if (m_process.state() == QProcess::NotRunning) {
            return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
        }
        m_process.terminate();
        if (!m_process.waitForFinished(20'000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
            return -1;
        }
        return m_process.exitStatus() == QProcess::NormalExit ? m_process.exitCode() : -1;
    }

    quint16 port() const { return m_port; }
    qint64 pid() const { return m_process.processId(); }
    QString errorString() const { return m_errorString; }

    QString log() const
    {
        QFile file(m_logPath);
        return file.open(QIODevice::ReadOnly) ? QString::fromUtf8(file.readAll()) : QString();
    }

    // The last lines of the log, for failure messages.
    QString logTail() const { return log().right(4000); }

    // GET /metrics, as a map from sample name (labels included, as written) to value; empty
    // when the request fails.
    QHash<QString, double> metrics() const
    {
        QTcpSocket socket;
        socket.connectToHost(QStringLiteral("127.0.0.1"), m_port);
        if (!socket.waitForConnected(5000)) {
            return {};
        }
        socket.write("GET /metrics HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
        QByteArray response;
        while (socket.waitForReadyRead(5000)) {
            response += socket.readAll();
        }
        response += socket.readAll();
        QHash<QString, double> samples;
        const qsizetype bodyStart = response.indexOf("\r\n\r\n");
        if (bodyStart < 0) {
            return samples;
        }
        const QList<QByteArray> lines = response.mid(bodyStart + 4).split('\n');
        for (const QByteArray &line : lines) {
            if (line.isEmpty() || line.startsWith('#')) {
                continue;
            }
            const qsizetype space = line.lastIndexOf(' ');
            samples.insert(QString::fromUtf8(line.left(space)), line.mid(space + 1).toDouble());
        }
        return samples;
    }

    // Resident memory of the server process in bytes, from /proc/PID/status (VmRSS).
    qint64 residentBytes() const
    {
        QFile status(QStringLiteral("/proc/%1/status").arg(pid()));
        if (!status.open(QIODevice::ReadOnly)) {
            return -1;
        }
        static const QRegularExpression vmRss(QStringLiteral("VmRSS:\\s+(\\d+) kB"));
        const QRegularExpressionMatch match = vmRss.match(QString::fromUtf8(status.readAll()));
        return match.hasMatch() ? match.captured(1).toLongLong() * 1024 : -1;
    }

    // Open file descriptors of the server process, counted in /proc/PID/fd.
    int openFileCount() const
    {
        return int(QDir(QStringLiteral("/proc/%1/fd").arg(pid()))
                       .entryList(QDir::AllEntries | QDir::NoDotAndDotDot | QDir::System)
                       .size());
    }

private:
    QProcess m_process;
    QTemporaryDir m_logDir;
    QString m_logPath;
    QString m_errorString;
    quint16 m_port = 0;
    int m_starts = 0;
};
