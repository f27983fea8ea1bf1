#pragma once

// Runs the built omw-server binary for tests: on a free port (--port 0) or a given one, with
// extra options, and parses the port from its "listening on ws://ADDRESS:PORT/socket" line.

#include <QDeadlineTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QStringList>
#include <QUrl>

#include <csignal>
#include <sys/prctl.h>
#include <sys/types.h>

class OmwServerProcess
{
public:
    static QString binaryPath() { return QStringLiteral(OMW_BINARY_DIR "/server/omw-server"); }

    OmwServerProcess()
    {
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        // A test that crashes must not leave its server running.
        m_process.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGKILL); });
    }
    ~OmwServerProcess() { stop(); }

    // Starts the server and waits until it listens. Returns false with errorString() set when
    // it exits or does not listen within 10 s.
    bool start(quint16 port = 0, const QStringList &extraArguments = {})
    {
        m_log.clear();
        m_port = 0;
        QStringList arguments {QStringLiteral("--port"), QString::number(port)};
        arguments += extraArguments;
        m_process.start(binaryPath(), arguments);
        if (!m_process.waitForStarted(5000)) {
            m_errorString
                = QStringLiteral("cannot start %1: %2").arg(binaryPath(), m_process.errorString());
            return false;
        }
        static const QRegularExpression listening(
            QStringLiteral("listening on ws://[^\\s]*:(\\d+)/socket"));
        const QDeadlineTimer deadline(10'000);
        while (!deadline.hasExpired()) {
            if (m_process.state() != QProcess::Running) {
                m_errorString = QStringLiteral("omw-server exited: %1").arg(log());
                return false;
            }
            m_process.waitForReadyRead(100);
            m_log += m_process.readAllStandardError();
            const QRegularExpressionMatch match = listening.match(QString::fromUtf8(m_log));
            if (match.hasMatch()) {
                m_port = quint16(match.captured(1).toUInt());
                return true;
            }
        }
        m_errorString = QStringLiteral("omw-server did not listen within 10 s: %1").arg(log());
        return false;
    }

    // Stops the server with SIGTERM and waits for it to exit.
    void stop()
    {
        if (m_process.state() == QProcess::NotRunning)
            return;
        resume();
        m_process.terminate();
        if (!m_process.waitForFinished(5000)) {
            m_process.kill();
            m_process.waitForFinished(5000);
        }
        m_log += m_process.readAllStandardError();
    }

    // SIGSTOP: the server keeps its sockets open but sends nothing until resume().
    void suspend() { ::kill(pid_t(m_process.processId()), SIGSTOP); }
    void resume()
    {
        if (m_process.state() == QProcess::Running)
            ::kill(pid_t(m_process.processId()), SIGCONT);
    }

    bool isRunning() const { return m_process.state() == QProcess::Running; }
    quint16 port() const { return m_port; }
    QUrl socketUrl() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_port)); }
    QString errorString() const { return m_errorString; }
    QString log()
    {
        if (m_process.state() == QProcess::Running)
            m_log += m_process.readAllStandardError();
        return QString::fromUtf8(m_log);
    }

private:
    QProcess m_process;
    QByteArray m_log;
    QString m_errorString;
    quint16 m_port = 0;
};
