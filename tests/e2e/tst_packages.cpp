// End-to-end test of the Debian packages. It builds them with CPack and unpacks them with dpkg-deb
// into a scratch root. It checks their files, control fields, maintainer scripts, systemd unit and
// configuration. Then it runs the unpacked omw-server with the packaged configuration and replays
// a real track through the unpacked omw-rider to a follower.

#include "phoenixchannel.h"
#include "phoenixpush.h"
#include "phoenixsocket.h"

#include <QDeadlineTimer>
#include <QDir>
#include <QDirIterator>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace Omw::Phoenix;

namespace {

const QString serverPackage = QStringLiteral("omw-server");
const QString riderPackage = QStringLiteral("omw-rider");
const QString consolePackage = QStringLiteral("omw-console");

// A finished process run: exit code (-1 when it crashed or did not finish) and merged output.
struct ProcessResult
{
    int exitCode = -1;
    QString output;
};

ProcessResult
runProcess(const QString &program, const QStringList &arguments, int timeoutMilliseconds = 60'000,
           const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment())
{
    QProcess process;
    process.setProcessChannelMode(QProcess::MergedChannels);
    process.setProcessEnvironment(environment);
    process.start(program, arguments);
    ProcessResult result;
    if (!process.waitForFinished(timeoutMilliseconds)) {
        process.kill();
        process.waitForFinished();
        result.output = QString::fromUtf8(process.readAll()) + QStringLiteral("\n[") + program
            + QStringLiteral(" did not finish: ") + process.errorString() + QStringLiteral("]");
        return result;
    }
    result.output = QString::fromUtf8(process.readAll());
    if (process.exitStatus() == QProcess::NormalExit)
        result.exitCode = process.exitCode();
    return result;
}

// Parses `key=value` lines of a systemd unit or a control file into a multi-map, ignoring
// comments and section headers.
QMultiMap<QString, QString> parseKeyValues(const QString &text, QChar separator)
{
    QMultiMap<QString, QString> values;
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (const QString &line : lines) {
        if (line.startsWith(QLatin1Char('#')) || line.startsWith(QLatin1Char('[')))
            continue;
        const qsizetype at = line.indexOf(separator);
        if (at <= 0)
            continue;
        values.insert(line.left(at).trimmed(), line.mid(at + 1).trimmed());
    }
    return values;
}

QString readTextFile(const QString &path)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(file.readAll());
}

bool writeTextFile(const QString &path, const QString &text, QFile::Permissions permissions = {})
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    file.write(text.toUtf8());
    file.close();
    return permissions == QFile::Permissions() || file.setPermissions(permissions);
}

} // namespace

class TestPackages : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();

    void packageFileNames();
    void packageFiles_data();
    void packageFiles();
    void packageOwnership();
    void controlFields_data();
    void controlFields();
    void descriptionsHaveSynopsis();
    void maintainerScriptsSyntax();
    void postinstCreatesUser();
    void postinstKeepsExistingUser();
    void systemdUnitKeys_data();
    void systemdUnitKeys();
    void systemdUnitVerifies();
    void desktopEntry();
    void configListsEveryOption();
    void docsListEveryOption();
    void configDefaultsAccepted();
    void serverServesHealth();
    void containerHealthCheckPasses();
    void rideReachesFollower();
    void consoleSelfTest();
    void consoleDependsCoverQmlImports();

private:
    bool hasPackage(const QString &package) const { return m_packages.contains(package); }
    QString rootPath(const QString &path) const { return m_root + path; }
    QStringList serverOptions();
    // Starts the unpacked server with `arguments` and returns its port, or 0 on failure.
    quint16 startServer(const QStringList &arguments);

    QTemporaryDir m_scratch;
    QString m_root; // where the packages are unpacked
    QHash<QString, QString> m_packages; // package name -> .deb path
    QString m_architecture;
    std::unique_ptr<QProcess> m_server;
    QStringList m_serverOptions;
};

void TestPackages::initTestCase()
{
    const QString dpkgDeb = QStandardPaths::findExecutable(QStringLiteral("dpkg-deb"));
    if (dpkgDeb.isEmpty())
        QSKIP("dpkg-deb is not installed (package dpkg); cannot build or unpack .deb packages.");
    QVERIFY2(m_scratch.isValid(), qPrintable(m_scratch.errorString()));

    const ProcessResult architecture
        = runProcess(QStringLiteral("dpkg"), {QStringLiteral("--print-architecture")});
    QCOMPARE(architecture.exitCode, 0);
    m_architecture = architecture.output.trimmed();

    // CPack installs each component of the build tree and runs dpkg-shlibdeps on it.
    const QString outputDir = m_scratch.filePath(QStringLiteral("debs"));
    const ProcessResult cpack = runProcess(
        QStringLiteral(OMW_CPACK_COMMAND),
        {QStringLiteral("-G"), QStringLiteral("DEB"), QStringLiteral("--config"),
         QStringLiteral(OMW_BINARY_DIR "/CPackConfig.cmake"), QStringLiteral("-B"), outputDir},
        300'000);
    QVERIFY2(cpack.exitCode == 0, qPrintable(cpack.output));

    const QFileInfoList debs
        = QDir(outputDir).entryInfoList({QStringLiteral("*.deb")}, QDir::Files, QDir::Name);
    for (const QFileInfo &deb : debs) {
        const ProcessResult field = runProcess(
            dpkgDeb, {QStringLiteral("--field"), deb.filePath(), QStringLiteral("Package")});
        QCOMPARE(field.exitCode, 0);
        m_packages.insert(field.output.trimmed(), deb.filePath());
    }

    m_root = m_scratch.filePath(QStringLiteral("root"));
    QVERIFY(QDir().mkpath(m_root));
    for (const QString &deb : std::as_const(m_packages)) {
        const ProcessResult unpack = runProcess(dpkgDeb, {QStringLiteral("-x"), deb, m_root});
        QVERIFY2(unpack.exitCode == 0, qPrintable(unpack.output));
    }
}

void TestPackages::cleanup()
{
    if (m_server) {
        m_server->terminate();
        if (!m_server->waitForFinished(5'000))
            m_server->kill();
        m_server->waitForFinished();
        m_server.reset();
    }
}

void TestPackages::packageFileNames()
{
    const QStringList expected = QStringLiteral(OMW_E2E_PACKAGES).split(QLatin1Char(','));
    QStringList built = m_packages.keys();
    built.sort();
    QStringList sortedExpected = expected;
    sortedExpected.sort();
    QCOMPARE(built, sortedExpected);

    for (auto it = m_packages.cbegin(); it != m_packages.cend(); ++it) {
        const QString fileName = it.key() + QLatin1Char('_') + QStringLiteral(OMW_VERSION)
            + QStringLiteral("-1_") + m_architecture + QStringLiteral(".deb");
        QCOMPARE(QFileInfo(it.value()).fileName(), fileName);
    }
}

void TestPackages::packageFiles_data()
{
    QTest::addColumn<QString>("package");
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("mode");

    QTest::newRow("server binary") << serverPackage << "/usr/bin/omw-server"
                                   << "-rwxr-xr-x";
    QTest::newRow("server unit") << serverPackage << "/usr/lib/systemd/system/omw-server.service"
                                 << "-rw-r--r--";
    QTest::newRow("server config") << serverPackage << "/etc/omw/omw-server.conf"
                                   << "-rw-r--r--";
    QTest::newRow("server docs") << serverPackage << "/usr/share/doc/omw-server/operations.md"
                                 << "-rw-r--r--";
    QTest::newRow("rider binary") << riderPackage << "/usr/bin/omw-rider"
                                  << "-rwxr-xr-x";
    if (QFileInfo::exists(QStringLiteral(OMW_SOURCE_DIR "/rider/demo/demo-ride.gpx"))) {
        QTest::newRow("rider demo ride") << riderPackage << "/usr/share/omw-rider/demo-ride.gpx"
                                         << "-rw-r--r--";
    }
    QTest::newRow("console binary") << consolePackage << "/usr/bin/omw-console"
                                    << "-rwxr-xr-x";
    QTest::newRow("console desktop entry")
        << consolePackage << "/usr/share/applications/omw-console.desktop"
        << "-rw-r--r--";
    QTest::newRow("console icon") << consolePackage
                                  << "/usr/share/icons/hicolor/scalable/apps/omw-console.svg"
                                  << "-rw-r--r--";
}

void TestPackages::packageFiles()
{
    QFETCH(QString, package);
    QFETCH(QString, path);
    QFETCH(QString, mode);
    if (!hasPackage(package))
        QSKIP("This build makes no such package (OMW_BUILD_CONSOLE=OFF?).");

    const ProcessResult contents = runProcess(
        QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), m_packages.value(package)});
    QCOMPARE(contents.exitCode, 0);
    // Lines read `-rwxr-xr-x root/root 123 2026-01-01 00:00 ./usr/bin/omw-server`.
    const QRegularExpression line(QStringLiteral("^(\\S+)\\s+\\S+\\s+\\d+\\s+\\S+\\s+\\S+\\s+\\.")
                                      + QRegularExpression::escape(path) + QStringLiteral("$"),
                                  QRegularExpression::MultilineOption);
    const QRegularExpressionMatch match = line.match(contents.output);
    QVERIFY2(match.hasMatch(),
             qPrintable(path + QStringLiteral(" is not in ") + package + QStringLiteral(":\n")
                        + contents.output));
    QCOMPARE(match.captured(1), mode);
    QVERIFY(QFileInfo(rootPath(path)).isFile());
}

void TestPackages::packageOwnership()
{
    for (auto it = m_packages.cbegin(); it != m_packages.cend(); ++it) {
        const ProcessResult contents
            = runProcess(QStringLiteral("dpkg-deb"), {QStringLiteral("--contents"), it.value()});
        QCOMPARE(contents.exitCode, 0);
        const QStringList lines = contents.output.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY(!lines.isEmpty());
        for (const QString &entry : lines) {
            const QStringList fields = entry.split(QLatin1Char(' '), Qt::SkipEmptyParts);
            QVERIFY2(fields.size() >= 6, qPrintable(entry));
            QVERIFY2(fields.at(1) == QLatin1String("root/root"), qPrintable(entry));
            const QString &path = fields.at(5);
            // Everything lives under /usr, except the configuration in /etc/omw.
            QVERIFY2(path == QLatin1String("./") || path == QLatin1String("./usr/")
                         || path.startsWith(QLatin1String("./usr/bin/"))
                         || path.startsWith(QLatin1String("./usr/lib/"))
                         || path.startsWith(QLatin1String("./usr/share/"))
                         || path == QLatin1String("./etc/")
                         || path.startsWith(QLatin1String("./etc/omw/")),
                     qPrintable(it.key() + QStringLiteral(": unexpected path ") + entry));
            QVERIFY2(!path.startsWith(QLatin1String("./usr/lib/"))
                         || path == QLatin1String("./usr/lib/")
                         || path.startsWith(QLatin1String("./usr/lib/systemd/")),
                     qPrintable(it.key() + QStringLiteral(": library file ") + entry));
        }
    }
}

void TestPackages::controlFields_data()
{
    QTest::addColumn<QString>("package");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QStringList>("expected");

    QTest::newRow("server depends")
        << serverPackage << "Depends"
        << QStringList {"adduser", "libqt6core6", "libqt6network6", "libqt6websockets6"};
    QTest::newRow("server section") << serverPackage << "Section" << QStringList {"net"};
    QTest::newRow("rider depends")
        << riderPackage << "Depends"
        << QStringList {"libqt6core6", "libqt6positioning6", "libqt6websockets6"};
    QTest::newRow("rider recommends")
        << riderPackage << "Recommends" << QStringList {"libqt6positioning6-plugins"};
    QTest::newRow("console depends")
        << consolePackage << "Depends"
        << QStringList {"libqt6quick6", "qml6-module-qtquick", "qml6-module-qtquick-controls",
                        "qml6-module-qtquick-templates", "libqt6sql6-sqlite"};
}

void TestPackages::controlFields()
{
    QFETCH(QString, package);
    QFETCH(QString, field);
    QFETCH(QStringList, expected);
    if (!hasPackage(package))
        QSKIP("This build makes no such package (OMW_BUILD_CONSOLE=OFF?).");

    const ProcessResult value = runProcess(
        QStringLiteral("dpkg-deb"), {QStringLiteral("--field"), m_packages.value(package), field});
    QCOMPARE(value.exitCode, 0);
    // `a (>= 1), b | c` lists the names a, b and c.
    QStringList names;
    const QStringList alternatives
        = value.output.trimmed().split(QRegularExpression(QStringLiteral("\\s*[,|]\\s*")));
    for (const QString &alternative : alternatives)
        names.append(alternative.section(QLatin1Char(' '), 0, 0));
    for (const QString &name : std::as_const(expected)) {
        QVERIFY2(names.contains(name),
                 qPrintable(package + QLatin1Char(' ') + field + QStringLiteral(" lacks ") + name
                            + QStringLiteral(": ") + value.output));
    }
}

void TestPackages::descriptionsHaveSynopsis()
{
    const QHash<QString, QString> synopses = {
        {serverPackage, QStringLiteral("live tracking server for motorcycle rides")},
        {riderPackage, QStringLiteral("publishes a motorcycle ride to an Omw server")},
        {consolePackage, QStringLiteral("desktop console that shows live rides on a map")},
    };
    for (auto it = m_packages.cbegin(); it != m_packages.cend(); ++it) {
        const ProcessResult description
            = runProcess(QStringLiteral("dpkg-deb"),
                         {QStringLiteral("--field"), it.value(), QStringLiteral("Description")});
        QCOMPARE(description.exitCode, 0);
        const QStringList lines = description.output.split(QLatin1Char('\n'), Qt::SkipEmptyParts);
        QVERIFY2(lines.size() > 2, qPrintable(description.output));
        QCOMPARE(lines.first(), synopses.value(it.key()));
        // Extended lines start with exactly one space, as Debian policy asks.
        for (qsizetype i = 1; i < lines.size(); ++i) {
            QVERIFY2(lines.at(i).startsWith(QLatin1Char(' '))
                         && !lines.at(i).startsWith(QLatin1String("  ")),
                     qPrintable(it.key() + QStringLiteral(": ") + lines.at(i)));
        }
    }
}

void TestPackages::maintainerScriptsSyntax()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QString controlDir = m_scratch.filePath(QStringLiteral("control"));
    const ProcessResult control
        = runProcess(QStringLiteral("dpkg-deb"),
                     {QStringLiteral("--control"), m_packages.value(serverPackage), controlDir});
    QVERIFY2(control.exitCode == 0, qPrintable(control.output));

    QCOMPARE(readTextFile(controlDir + QStringLiteral("/conffiles")),
             QStringLiteral("/etc/omw/omw-server.conf\n"));
    const QStringList scripts
        = {QStringLiteral("postinst"), QStringLiteral("prerm"), QStringLiteral("postrm")};
    for (const QString &script : scripts) {
        const QFileInfo info(controlDir + QLatin1Char('/') + script);
        QVERIFY2(info.isExecutable(), qPrintable(script));
        const ProcessResult syntax
            = runProcess(QStringLiteral("sh"), {QStringLiteral("-n"), info.filePath()});
        QVERIFY2(syntax.exitCode == 0, qPrintable(script + QStringLiteral(": ") + syntax.output));
    }
}

// Runs the package's postinst with stand-ins for getent, adduser and the systemd helpers that
// record their arguments. `userExists` sets what getent reports for the user omw.
static ProcessResult runPostinst(const QString &scratch, const QString &postinst,
                                 const QStringList &arguments, bool userExists, QStringList *calls)
{
    const QString stubs = scratch + QStringLiteral("/stubs");
    const QString log = scratch + QStringLiteral("/stub-calls.log");
    QDir().mkpath(stubs);
    QFile::remove(log);
    const QString record = QStringLiteral("#!/bin/sh\necho \"$(basename \"$0\") $*\" >> ") + log
        + QStringLiteral("\n");
    const auto executable = QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner;
    writeTextFile(stubs + QStringLiteral("/getent"),
                  record + (userExists ? QStringLiteral("exit 0\n") : QStringLiteral("exit 2\n")),
                  executable);
    const QStringList recorders
        = {QStringLiteral("adduser"), QStringLiteral("deb-systemd-helper"),
           QStringLiteral("deb-systemd-invoke"), QStringLiteral("systemctl")};
    for (const QString &name : recorders)
        writeTextFile(stubs + QLatin1Char('/') + name, record + QStringLiteral("exit 0\n"),
                      executable);

    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("PATH"), stubs + QStringLiteral(":/usr/bin:/bin"));
    const ProcessResult result
        = runProcess(QStringLiteral("sh"), QStringList {postinst} + arguments, 30'000, environment);
    *calls = readTextFile(log).split(QLatin1Char('\n'), Qt::SkipEmptyParts);
    return result;
}

void TestPackages::postinstCreatesUser()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QString postinst = m_scratch.filePath(QStringLiteral("control/postinst"));
    QVERIFY2(QFileInfo::exists(postinst), "maintainerScriptsSyntax extracts the control files");

    QStringList calls;
    const ProcessResult result
        = runPostinst(m_scratch.path(), postinst, {QStringLiteral("configure")}, false, &calls);
    QVERIFY2(result.exitCode == 0, qPrintable(result.output));
    QCOMPARE(calls.value(0), QStringLiteral("getent passwd omw"));
    QCOMPARE(calls.value(1),
             QStringLiteral("adduser --system --group --home /nonexistent --no-create-home "
                            "--gecos Omw ride tracking server omw"));
    QVERIFY2(calls.contains(QStringLiteral("deb-systemd-helper enable omw-server.service")),
             qPrintable(calls.join(QLatin1Char('\n'))));
}

void TestPackages::postinstKeepsExistingUser()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QString postinst = m_scratch.filePath(QStringLiteral("control/postinst"));
    QVERIFY2(QFileInfo::exists(postinst), "maintainerScriptsSyntax extracts the control files");

    QStringList calls;
    const ProcessResult result
        = runPostinst(m_scratch.path(), postinst,
                      {QStringLiteral("configure"), QStringLiteral("0.0.1-1")}, true, &calls);
    QVERIFY2(result.exitCode == 0, qPrintable(result.output));
    QCOMPARE(calls.value(0), QStringLiteral("getent passwd omw"));
    for (const QString &call : std::as_const(calls))
        QVERIFY2(!call.startsWith(QLatin1String("adduser")), qPrintable(call));
}

void TestPackages::systemdUnitKeys_data()
{
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("value");

    QTest::newRow("ExecStart") << "ExecStart"
                               << "/usr/bin/omw-server --config /etc/omw/omw-server.conf "
                                  "--state-file ${STATE_DIRECTORY}/rides.json";
    QTest::newRow("StateDirectory") << "StateDirectory"
                                    << "omw";
    QTest::newRow("User") << "User"
                          << "omw";
    QTest::newRow("Group") << "Group"
                           << "omw";
    QTest::newRow("Restart") << "Restart"
                             << "on-failure";
    QTest::newRow("NoNewPrivileges") << "NoNewPrivileges"
                                     << "yes";
    QTest::newRow("ProtectSystem") << "ProtectSystem"
                                   << "strict";
    QTest::newRow("ProtectHome") << "ProtectHome"
                                 << "yes";
    QTest::newRow("PrivateTmp") << "PrivateTmp"
                                << "yes";
    QTest::newRow("PrivateDevices") << "PrivateDevices"
                                    << "yes";
    // An empty bounding set and no ambient capabilities: the default port needs none.
    QTest::newRow("CapabilityBoundingSet") << "CapabilityBoundingSet"
                                           << "";
    QTest::newRow("AmbientCapabilities") << "AmbientCapabilities"
                                         << "";
    QTest::newRow("WantedBy") << "WantedBy"
                              << "multi-user.target";
}

void TestPackages::systemdUnitKeys()
{
    QFETCH(QString, key);
    QFETCH(QString, value);
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");

    const QMultiMap<QString, QString> unit = parseKeyValues(
        readTextFile(rootPath(QStringLiteral("/usr/lib/systemd/system/omw-server.service"))),
        QLatin1Char('='));
    QCOMPARE(unit.values(key), QStringList {value});
}

void TestPackages::systemdUnitVerifies()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QString analyze = QStandardPaths::findExecutable(QStringLiteral("systemd-analyze"));
    if (analyze.isEmpty())
        QSKIP("systemd-analyze is not installed; systemdUnitKeys checks the unit's keys.");

    // systemd-analyze checks that ExecStart exists on this machine, so a copy of the unit
    // points at the unpacked binary.
    QString unit
        = readTextFile(rootPath(QStringLiteral("/usr/lib/systemd/system/omw-server.service")));
    unit.replace(QStringLiteral("ExecStart=/usr/bin/omw-server"),
                 QStringLiteral("ExecStart=") + rootPath(QStringLiteral("/usr/bin/omw-server")));
    const QString copy = m_scratch.filePath(QStringLiteral("omw-server.service"));
    QVERIFY(writeTextFile(copy, unit));

    const ProcessResult verify = runProcess(analyze, {QStringLiteral("verify"), copy});
    QVERIFY2(verify.exitCode == 0, qPrintable(verify.output));
    QVERIFY2(verify.output.trimmed().isEmpty(), qPrintable(verify.output));

    // The exposure score of `systemd-analyze security` goes from 0 (locked down) to 10.
    const ProcessResult security
        = runProcess(analyze, {QStringLiteral("security"), QStringLiteral("--offline=yes"), copy});
    if (security.exitCode != 0 && security.output.contains(QLatin1String("--offline")))
        QSKIP("This systemd-analyze has no offline security check.");
    const QRegularExpressionMatch score
        = QRegularExpression(QStringLiteral("Overall exposure level for \\S+: (\\d+\\.\\d)"))
              .match(security.output);
    QVERIFY2(score.hasMatch(), qPrintable(security.output));
    QVERIFY2(score.captured(1).toDouble() <= 2.0, qPrintable(security.output));
}

void TestPackages::desktopEntry()
{
    if (!hasPackage(consolePackage))
        QSKIP("No omw-console package (OMW_BUILD_CONSOLE=OFF).");
    const QString entryPath
        = rootPath(QStringLiteral("/usr/share/applications/omw-console.desktop"));
    const QMultiMap<QString, QString> entry
        = parseKeyValues(readTextFile(entryPath), QLatin1Char('='));
    QCOMPARE(entry.values(QStringLiteral("Type")), QStringList {QStringLiteral("Application")});
    QCOMPARE(entry.values(QStringLiteral("Exec")), QStringList {QStringLiteral("omw-console")});
    // The icon name resolves to the packaged SVG in the hicolor theme.
    QCOMPARE(entry.values(QStringLiteral("Icon")), QStringList {QStringLiteral("omw-console")});

    const QString validate
        = QStandardPaths::findExecutable(QStringLiteral("desktop-file-validate"));
    if (validate.isEmpty())
        QSKIP("desktop-file-validate is not installed (package desktop-file-utils).");
    const ProcessResult result = runProcess(validate, {entryPath});
    QVERIFY2(result.exitCode == 0 && result.output.trimmed().isEmpty(), qPrintable(result.output));
}

QStringList TestPackages::serverOptions()
{
    if (!m_serverOptions.isEmpty())
        return m_serverOptions;
    const ProcessResult help
        = runProcess(rootPath(QStringLiteral("/usr/bin/omw-server")), {QStringLiteral("--help")});
    if (help.exitCode != 0) {
        qWarning().noquote() << "omw-server --help failed:" << help.output;
        return {};
    }
    // Option lines start with spaces, then `-x, --name` or `--name`.
    const QRegularExpression option(QStringLiteral("^\\s+(?:-\\w, )?--([a-z][a-z0-9-]*)"),
                                    QRegularExpression::MultilineOption);
    QRegularExpressionMatchIterator it = option.globalMatch(help.output);
    const QStringList notSettings = {QStringLiteral("help"), QStringLiteral("help-all"),
                                     QStringLiteral("version"), QStringLiteral("config")};
    while (it.hasNext()) {
        const QString name = it.next().captured(1);
        if (!notSettings.contains(name) && !m_serverOptions.contains(name))
            m_serverOptions.append(name);
    }
    m_serverOptions.sort();
    return m_serverOptions;
}

void TestPackages::configListsEveryOption()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QStringList options = serverOptions();
    QVERIFY(options.size() > 10);

    // Each setting appears as `;key = default`.
    const QString config = readTextFile(rootPath(QStringLiteral("/etc/omw/omw-server.conf")));
    QStringList keys;
    const QRegularExpression setting(QStringLiteral("^;([a-z][a-z0-9-]*) = \\S"),
                                     QRegularExpression::MultilineOption);
    QRegularExpressionMatchIterator it = setting.globalMatch(config);
    while (it.hasNext()) {
        const QString key = it.next().captured(1);
        if (!keys.contains(key))
            keys.append(key);
    }
    keys.sort();
    QCOMPARE(keys, options);
}

void TestPackages::docsListEveryOption()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const QStringList options = serverOptions();
    QVERIFY(options.size() > 10);
    const QString docs
        = readTextFile(rootPath(QStringLiteral("/usr/share/doc/omw-server/operations.md")));
    for (const QString &option : options) {
        QVERIFY2(docs.contains(QStringLiteral("`--") + option + QLatin1Char('`')),
                 qPrintable(QStringLiteral("operations.md does not describe --") + option));
    }
}

quint16 TestPackages::startServer(const QStringList &arguments)
{
    m_server = std::make_unique<QProcess>();
    m_server->setProcessChannelMode(QProcess::MergedChannels);
    m_server->start(rootPath(QStringLiteral("/usr/bin/omw-server")), arguments);
    if (!m_server->waitForStarted(10'000)) {
        qWarning().noquote() << "omw-server did not start:" << m_server->errorString();
        return 0;
    }
    const QRegularExpression listening(QStringLiteral("listening on ws://\\S+:(\\d+)/socket"));
    QString output;
    QDeadlineTimer deadline(20'000);
    while (!deadline.hasExpired() && m_server->state() == QProcess::Running) {
        m_server->waitForReadyRead(200);
        output += QString::fromUtf8(m_server->readAll());
        const QRegularExpressionMatch match = listening.match(output);
        if (match.hasMatch())
            return match.captured(1).toUShort();
    }
    output += QString::fromUtf8(m_server->readAll());
    qWarning().noquote() << "omw-server is not listening:" << output;
    return 0;
}

void TestPackages::configDefaultsAccepted()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    // Every documented default, uncommented, must be a valid value. The paths are examples of
    // files this machine does not have, and the origin and proxy examples would change what the
    // server accepts, so those stay commented.
    QString config = readTextFile(rootPath(QStringLiteral("/etc/omw/omw-server.conf")));
    const QRegularExpression setting(QStringLiteral("^;([a-z][a-z0-9-]*) = "),
                                     QRegularExpression::MultilineOption);
    const QStringList examples
        = {QStringLiteral("tls-cert"), QStringLiteral("tls-key"),
           QStringLiteral("dispatch-token-file"), QStringLiteral("allowed-origin")};
    QString uncommented;
    const QStringList lines = config.split(QLatin1Char('\n'));
    int settings = 0;
    for (const QString &line : lines) {
        const QRegularExpressionMatch match = setting.match(line);
        if (match.hasMatch() && !examples.contains(match.captured(1))) {
            uncommented += line.mid(1) + QLatin1Char('\n');
            ++settings;
        } else {
            uncommented += line + QLatin1Char('\n');
        }
    }
    QVERIFY(settings > 10);
    const QString path = m_scratch.filePath(QStringLiteral("defaults.conf"));
    QVERIFY(writeTextFile(path, uncommented));

    const quint16 port = startServer(
        {QStringLiteral("--config"), path, QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(port != 0);
}

void TestPackages::serverServesHealth()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    const quint16 port = startServer({QStringLiteral("--config"),
                                      rootPath(QStringLiteral("/etc/omw/omw-server.conf")),
                                      QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(port != 0);

    QNetworkAccessManager network;
    const QUrl url(QStringLiteral("http://127.0.0.1:%1/healthz").arg(port));
    std::unique_ptr<QNetworkReply> reply(network.get(QNetworkRequest(url)));
    QSignalSpy finished(reply.get(), &QNetworkReply::finished);
    QVERIFY(finished.wait(10'000));
    QCOMPARE(reply->error(), QNetworkReply::NoError);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
    QVERIFY2(reply->header(QNetworkRequest::ContentTypeHeader)
                 .toString()
                 .startsWith(QLatin1String("application/json")),
             qPrintable(reply->header(QNetworkRequest::ContentTypeHeader).toString()));
}

void TestPackages::containerHealthCheckPasses()
{
    if (!hasPackage(serverPackage))
        QSKIP("No omw-server package.");
    // The container's HEALTHCHECK runs `bash -c SCRIPT` against port 4000 of the container. Run
    // the same script against the unpacked server, on its own port.
    const QString containerfile
        = readTextFile(QStringLiteral(OMW_SOURCE_DIR "/packaging/container/Containerfile"));
    const QRegularExpressionMatch check
        = QRegularExpression(
              QStringLiteral("CMD \\[\"bash\", \"-c\", (\"(?:[^\"\\\\]|\\\\.)*\")\\]"))
              .match(containerfile);
    QVERIFY2(check.hasMatch(), "no HEALTHCHECK CMD [\"bash\", \"-c\", ...] in the Containerfile");
    QJsonParseError error;
    const QJsonDocument script
        = QJsonDocument::fromJson("[" + check.captured(1).toUtf8() + "]", &error);
    QVERIFY2(error.error == QJsonParseError::NoError, qPrintable(error.errorString()));
    QString command = script.array().at(0).toString();
    QVERIFY2(command.contains(QLatin1String("/dev/tcp/127.0.0.1/4000")), qPrintable(command));

    const quint16 port = startServer({QStringLiteral("--config"),
                                      rootPath(QStringLiteral("/etc/omw/omw-server.conf")),
                                      QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(port != 0);
    command.replace(QStringLiteral("/dev/tcp/127.0.0.1/4000"),
                    QStringLiteral("/dev/tcp/127.0.0.1/%1").arg(port));
    const ProcessResult health
        = runProcess(QStringLiteral("bash"), {QStringLiteral("-c"), command}, 10'000);
    QVERIFY2(health.exitCode == 0, qPrintable(command + QLatin1Char('\n') + health.output));

    // The same script fails when nothing listens, so the check above means something.
    m_server->terminate();
    QVERIFY(m_server->waitForFinished(5'000));
    const ProcessResult stopped
        = runProcess(QStringLiteral("bash"), {QStringLiteral("-c"), command}, 10'000);
    QVERIFY(stopped.exitCode != 0);
}

void TestPackages::rideReachesFollower()
{
    if (!hasPackage(serverPackage) || !hasPackage(riderPackage))
        QSKIP("No omw-server or omw-rider package.");
    // A Garmin eTrex 20x recording: 104 points over 8.6 minutes, sampled every 1 to 11 s.
    const QString track = QStringLiteral(OMW_TRACKS_DIR "/gpxpy_around-visnjan-with-car.gpx");
    if (!QFileInfo::exists(track))
        QSKIP(qPrintable(QStringLiteral("The real tracks folder is absent: ") + track));

    const quint16 port = startServer({QStringLiteral("--config"),
                                      rootPath(QStringLiteral("/etc/omw/omw-server.conf")),
                                      QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(port != 0);
    const QString endpoint = QStringLiteral("ws://127.0.0.1:%1/socket").arg(port);

    // The follower creates the ride itself and joins before the rider starts, so that it receives
    // every point live.
    Socket socket {QUrl(endpoint)};
    socket.connectToServer();
    QTRY_VERIFY_WITH_TIMEOUT(socket.isConnected(), 10'000);
    Channel *onboarding = socket.channel(QStringLiteral("onboarding"));
    onboarding->join();
    QTRY_VERIFY_WITH_TIMEOUT(onboarding->isJoined(), 10'000);
    Push *create = onboarding->push(QStringLiteral("CREATE_SESSION"));
    QSignalSpy created(create, &Push::replied);
    QVERIFY(created.wait(10'000));
    QCOMPARE(created.first().at(0).toString(), QStringLiteral("ok"));
    const QJsonObject session = created.first().at(1).toJsonValue().toObject();
    const QString slug = session.value(QStringLiteral("slug")).toString();
    const QString token = session.value(QStringLiteral("token")).toString();
    QVERIFY(!slug.isEmpty());
    QVERIFY(!token.isEmpty());

    Channel *following = socket.channel(QStringLiteral("following:") + slug);
    QSignalSpy joined(following, &Channel::joined);
    QSignalSpy messages(following, &Channel::messageReceived);
    following->join();
    QVERIFY(joined.wait(10'000));
    const QJsonObject snapshot = joined.first().at(0).toJsonValue().toObject();
    QCOMPARE(snapshot.value(QStringLiteral("slug")).toString(), slug);
    QCOMPARE(snapshot.value(QStringLiteral("state")).toString(), QStringLiteral("waiting"));

    QProcess rider;
    rider.setProcessChannelMode(QProcess::MergedChannels);
    rider.start(rootPath(QStringLiteral("/usr/bin/omw-rider")),
                {QStringLiteral("--server"), endpoint, QStringLiteral("--speedup"),
                 QStringLiteral("50"), QStringLiteral("--slug"), slug, QStringLiteral("--token"),
                 token, track});
    QVERIFY2(rider.waitForStarted(10'000), qPrintable(rider.errorString()));

    // At 50 times its pace the ride takes about 10 s, and the rider leaves at its end.
    const auto terminated = [&messages] {
        for (const QList<QVariant> &message : std::as_const(messages)) {
            if (message.at(0).toString() == QLatin1String("TERMINATED"))
                return true;
        }
        return false;
    };
    QTRY_VERIFY_WITH_TIMEOUT(terminated(), 60'000);
    QTRY_COMPARE_WITH_TIMEOUT(rider.state(), QProcess::NotRunning, 10'000);
    const QString riderOutput = QString::fromUtf8(rider.readAll());
    QVERIFY2(rider.exitStatus() == QProcess::NormalExit && rider.exitCode() == 0,
             qPrintable(riderOutput));
    QVERIFY2(riderOutput.contains(
                 QStringLiteral("Ride %1 ended: 104 fixes, 104 accepted, 0 rejected").arg(slug)),
             qPrintable(riderOutput));

    QList<QJsonObject> positions;
    int terminations = 0;
    for (const QList<QVariant> &message : std::as_const(messages)) {
        const QString event = message.at(0).toString();
        if (event == QLatin1String("NEW_COORDS"))
            positions.append(message.at(1).toJsonObject());
        else if (event == QLatin1String("TERMINATED"))
            ++terminations;
    }
    QCOMPARE(terminations, 1);
    QCOMPARE(positions.size(), 104);
    QCOMPARE(positions.first().value(QStringLiteral("latitude")).toDouble(), 45.2735188510);
    QCOMPARE(positions.first().value(QStringLiteral("longitude")).toDouble(), 13.7142099626);
    QCOMPARE(positions.last().value(QStringLiteral("latitude")).toDouble(), 45.2733349521);
    QCOMPARE(positions.last().value(QStringLiteral("longitude")).toDouble(), 13.7139970623);
    double previousTimestamp = 0;
    for (const QJsonObject &position : std::as_const(positions)) {
        QCOMPARE(position.value(QStringLiteral("slug")).toString(), slug);
        const double timestamp = position.value(QStringLiteral("timestamp")).toDouble();
        QVERIFY2(timestamp > previousTimestamp, qPrintable(QString::number(timestamp, 'f', 0)));
        previousTimestamp = timestamp;
    }
    socket.disconnectFromServer();
}

void TestPackages::consoleSelfTest()
{
    if (!hasPackage(consolePackage))
        QSKIP("No omw-console package (OMW_BUILD_CONSOLE=OFF).");
    // The console connects to a server of this test and keeps its settings and tile cache in the
    // scratch folder, never in the user's.
    const quint16 port = startServer({QStringLiteral("--config"),
                                      rootPath(QStringLiteral("/etc/omw/omw-server.conf")),
                                      QStringLiteral("--port"), QStringLiteral("0")});
    QVERIFY(port != 0);
    const QString home = m_scratch.filePath(QStringLiteral("home"));
    const QString runtime = m_scratch.filePath(QStringLiteral("runtime"));
    QVERIFY(QDir().mkpath(home));
    QVERIFY(QDir().mkpath(runtime));
    QVERIFY(QFile::setPermissions(runtime, QFile::ReadOwner | QFile::WriteOwner | QFile::ExeOwner));
    QProcessEnvironment environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    environment.insert(QStringLiteral("HOME"), home);
    environment.insert(QStringLiteral("XDG_CACHE_HOME"), home + QStringLiteral("/.cache"));
    environment.insert(QStringLiteral("XDG_CONFIG_HOME"), home + QStringLiteral("/.config"));
    environment.insert(QStringLiteral("XDG_DATA_HOME"), home + QStringLiteral("/.local/share"));
    environment.insert(QStringLiteral("XDG_RUNTIME_DIR"), runtime);

    const ProcessResult selfTest = runProcess(
        rootPath(QStringLiteral("/usr/bin/omw-console")),
        {QStringLiteral("--self-test"), QStringLiteral("--tiles"), QStringLiteral("none"),
         QStringLiteral("--server"), QStringLiteral("ws://127.0.0.1:%1/socket").arg(port)},
        60'000, environment);
    // exitCode is -1 when the console crashed.
    QVERIFY2(selfTest.exitCode == 0,
             qPrintable(QStringLiteral("exit code %1\n").arg(selfTest.exitCode) + selfTest.output));
}

void TestPackages::consoleDependsCoverQmlImports()
{
    if (!hasPackage(consolePackage))
        QSKIP("No omw-console package (OMW_BUILD_CONSOLE=OFF).");
    const ProcessResult depends = runProcess(
        QStringLiteral("dpkg-deb"),
        {QStringLiteral("--field"), m_packages.value(consolePackage), QStringLiteral("Depends")});
    QCOMPARE(depends.exitCode, 0);

    // Every Qt module that the console's QML loads must come from a package the console depends
    // on; dpkg -S names the package that installed the module's qmldir on this machine. The
    // modules are those the console's own QML imports, then what their qmldir files import or
    // depend on, which the QML engine loads too. Controls also loads its platform's default
    // style (Fusion on Linux), whose QML imports QtQuick.Templates.
    const QString qtQml = QStringLiteral(OMW_QT_QML_DIR);
    QStringList pending
        = {QStringLiteral("QtQuick.Controls.Fusion"), QStringLiteral("QtQuick.Templates")};
    const QRegularExpression import(QStringLiteral("^\\s*import\\s+(Qt[\\w.]*)"),
                                    QRegularExpression::MultilineOption);
    for (const QString &folder :
         {QStringLiteral(OMW_SOURCE_DIR "/qml"), QStringLiteral(OMW_SOURCE_DIR "/console")}) {
        QDirIterator files(folder, {QStringLiteral("*.qml")}, QDir::Files,
                           QDirIterator::Subdirectories);
        while (files.hasNext()) {
            QRegularExpressionMatchIterator it = import.globalMatch(readTextFile(files.next()));
            while (it.hasNext())
                pending.append(it.next().captured(1));
        }
    }
    QVERIFY(pending.size() > 2);
    const auto qmldirPath = [&qtQml](const QString &module) -> QString {
        return qtQml + QLatin1Char('/')
            + QString(module).replace(QLatin1Char('.'), QLatin1Char('/'))
            + QStringLiteral("/qmldir");
    };
    const QRegularExpression implied(QStringLiteral("^(?:import|depends)\\s+(\\S+)"),
                                     QRegularExpression::MultilineOption);
    QSet<QString> modules;
    while (!pending.isEmpty()) {
        const QString module = pending.takeLast();
        if (modules.contains(module))
            continue;
        modules.insert(module);
        QRegularExpressionMatchIterator it = implied.globalMatch(readTextFile(qmldirPath(module)));
        while (it.hasNext())
            pending.append(it.next().captured(1));
    }

    for (const QString &module : std::as_const(modules)) {
        const QString qmldir = qmldirPath(module);
        const ProcessResult owner
            = runProcess(QStringLiteral("dpkg"), {QStringLiteral("-S"), qmldir});
        QVERIFY2(owner.exitCode == 0, qPrintable(module + QStringLiteral(": ") + owner.output));
        const QString package = owner.output.section(QLatin1Char(':'), 0, 0).trimmed();
        QVERIFY2(depends.output.contains(QRegularExpression(QStringLiteral("(^|[ ,|])")
                                                            + QRegularExpression::escape(package)
                                                            + QStringLiteral("($|[ ,|(])"))),
                 qPrintable(QStringLiteral("QML module ") + module + QStringLiteral(" is in ")
                            + package + QStringLiteral(", which omw-console does not depend on: ")
                            + depends.output));
    }
}

QTEST_GUILESS_MAIN(TestPackages)
#include "tst_packages.moc"
