#pragma once

#include <QFileInfo>
#include <QProcess>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStringList>

// Runs the real omw-server from the build tree on a free loopback port for a test.
class ServerProcess
{
public:
    static QString binaryPath() { return QStringLiteral(OMW_BINARY_DIR "/server/omw-server"); }
    static bool exists() { return QFileInfo(binaryPath()).isExecutable(); }

    ~ServerProcess() { stop(); }

    // Starts the server with `arguments` after `--port 0` and waits for its
    // "listening on ws://ADDRESS:PORT/socket" line. Returns false with `errorString` set when
    // it does not come up within 15 s.
    bool start(const QStringList &arguments = {})
    {
        m_process.setProgram(binaryPath());
        m_process.setArguments(QStringList {QStringLiteral("--port"), QStringLiteral("0")}
                               + arguments);
        m_process.setProcessChannelMode(QProcess::SeparateChannels);
        // The test's own logging rules could hide the line that names the port.
        QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
        environment.remove(QStringLiteral("QT_LOGGING_RULES"));
        m_process.setProcessEnvironment(environment);
        m_process.start();
        if (!m_process.waitForStarted(10000)) {
            m_errorString = m_process.errorString();
            return false;
        }
        static const QRegularExpression listening(
            QStringLiteral("listening on ws://([^\\s/]+):(\\d+)/socket"));
        QByteArray log;
        QSignalSpy output(&m_process, &QProcess::readyReadStandardError);
        for (int i = 0; i < 150; ++i) {
            log += m_process.readAllStandardError();
            const QRegularExpressionMatch match = listening.match(QString::fromUtf8(log));
            if (match.hasMatch()) {
                m_port = match.captured(2).toUShort();
                m_log = log;
                return true;
            }
            if (m_process.state() != QProcess::Running) {
                break;
            }
            output.wait(100);
        }
        m_errorString = QStringLiteral("omw-server did not report its port; its output:\n")
            + QString::fromUtf8(log);
        return false;
    }

    void stop()
    {
        if (m_process.state() != QProcess::NotRunning) {
            m_process.terminate();
            if (!m_process.waitForFinished(5000)) {
                m_process.kill();
                m_process.waitForFinished(5000);
            }
        }
    }

    quint16 port() const { return m_port; }
    QString url() const { return QStringLiteral("ws://127.0.0.1:%1/socket").arg(m_port); }
    QString errorString() const { return m_errorString; }

private:
    QProcess m_process;
    quint16 m_port = 0;
    QString m_errorString;
    QByteArray m_log;
};
