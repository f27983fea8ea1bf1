#include "phoenixcodec.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTest>

using namespace Omw::Phoenix;

Q_DECLARE_METATYPE(Omw::Phoenix::Serializer)
Q_DECLARE_METATYPE(Omw::Phoenix::DecodeResult::Error)

class tst_PhoenixCodec : public QObject
{
    Q_OBJECT

private slots:
    void decodeValid_data();
    void decodeValid();
    void decodeMalformed_data();
    void decodeMalformed();
    void encode_data();
    void encode();
    void roundTrip_data();
    void roundTrip();
    void vsn_data();
    void vsn();
};

static QJsonObject object(const char *json)
{
    return QJsonDocument::fromJson(json).object();
}

void tst_PhoenixCodec::decodeValid_data()
{
    QTest::addColumn<Serializer>("serializer");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QJsonValue>("joinRef");
    QTest::addColumn<QJsonValue>("ref");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QString>("event");
    QTest::addColumn<QJsonValue>("payload");

    QTest::newRow("v2 join") << Serializer::V2
                             << QByteArray(R"(["3","3","tracking:brave-otter","phx_join",{}])")
                             << QJsonValue("3") << QJsonValue("3") << "tracking:brave-otter"
                             << "phx_join" << QJsonValue(QJsonObject());
    QTest::newRow("v2 heartbeat null join_ref")
        << Serializer::V2 << QByteArray(R"([null,"7","phoenix","heartbeat",{}])")
        << QJsonValue(QJsonValue::Null) << QJsonValue("7") << "phoenix"
        << "heartbeat" << QJsonValue(QJsonObject());
    QTest::newRow("v2 extra elements ignored")
        << Serializer::V2 << QByteArray(R"(["1","2","t","e",{"a":1},"extra",3])") << QJsonValue("1")
        << QJsonValue("2") << "t"
        << "e" << QJsonValue(object(R"({"a":1})"));
    QTest::newRow("v2 string payload kept")
        << Serializer::V2 << QByteArray(R"(["1","2","t","NEW_COORDS","abc"])") << QJsonValue("1")
        << QJsonValue("2") << "t"
        << "NEW_COORDS" << QJsonValue("abc");
    QTest::newRow("v2 dart refs from 0")
        << Serializer::V2 << QByteArray(R"(["0","0","onboarding","phx_join",{}])")
        << QJsonValue("0") << QJsonValue("0") << "onboarding"
        << "phx_join" << QJsonValue(QJsonObject());
    QTest::newRow("v1 with join_ref")
        << Serializer::V1
        << QByteArray(
               R"({"topic":"onboarding","event":"phx_join","payload":{},"ref":"1","join_ref":"1"})")
        << QJsonValue("1") << QJsonValue("1") << "onboarding"
        << "phx_join" << QJsonValue(QJsonObject());
    QTest::newRow("v1 without join_ref")
        << Serializer::V1
        << QByteArray(R"({"topic":"phoenix","event":"heartbeat","payload":{},"ref":"9"})")
        << QJsonValue(QJsonValue::Null) << QJsonValue("9") << "phoenix"
        << "heartbeat" << QJsonValue(QJsonObject());
    QTest::newRow("v1 null ref and payload")
        << Serializer::V1 << QByteArray(R"({"topic":"t","event":"e","payload":null,"ref":null})")
        << QJsonValue(QJsonValue::Null) << QJsonValue(QJsonValue::Null) << "t"
        << "e" << QJsonValue(QJsonValue::Null);
    QTest::newRow("unicode topic")
        << Serializer::V2 << QByteArray(R"(["1","1","following:zo\u00eb","phx_join",{}])")
        << QJsonValue("1") << QJsonValue("1") << QString::fromUtf8("following:zo\xc3\xab")
        << "phx_join" << QJsonValue(QJsonObject());
}

void tst_PhoenixCodec::decodeValid()
{
    QFETCH(Serializer, serializer);
    QFETCH(QByteArray, text);
    const DecodeResult result = decode(text, serializer);
    QVERIFY2(result.isValid(), qPrintable(result.errorString));
    QCOMPARE(result.error, DecodeResult::NoError);
    QTEST(result.message.joinRef, "joinRef");
    QTEST(result.message.ref, "ref");
    QTEST(result.message.topic, "topic");
    QTEST(result.message.event, "event");
    QTEST(result.message.payload, "payload");
}

void tst_PhoenixCodec::decodeMalformed_data()
{
    QTest::addColumn<Serializer>("serializer");
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<DecodeResult::Error>("error");
    QTest::addColumn<bool>("canReply");
    QTest::addColumn<QString>("topic");
    QTest::addColumn<QJsonValue>("ref");

    const QJsonValue none;
    QTest::newRow("empty") << Serializer::V2 << QByteArray() << DecodeResult::InvalidJson << false
                           << QString() << none;
    QTest::newRow("not json") << Serializer::V2 << QByteArray("hello") << DecodeResult::InvalidJson
                              << false << QString() << none;
    QTest::newRow("truncated") << Serializer::V2 << QByteArray(R"(["1","1","t","e",{)")
                               << DecodeResult::InvalidJson << false << QString() << none;
    QTest::newRow("bare string") << Serializer::V2 << QByteArray(R"("x")")
                                 << DecodeResult::InvalidJson << false << QString() << none;
    QTest::newRow("v2 object") << Serializer::V2
                               << QByteArray(R"({"topic":"t","event":"e","payload":{},"ref":"1"})")
                               << DecodeResult::InvalidEnvelope << false << QString() << none;
    QTest::newRow("v2 four elements")
        << Serializer::V2 << QByteArray(R"(["1","2","t","e"])") << DecodeResult::InvalidEnvelope
        << true << "t" << QJsonValue("2");
    QTest::newRow("v2 empty array") << Serializer::V2 << QByteArray("[]")
                                    << DecodeResult::InvalidEnvelope << false << QString() << none;
    QTest::newRow("v2 numeric topic")
        << Serializer::V2 << QByteArray(R"(["1","2",5,"e",{}])") << DecodeResult::InvalidEnvelope
        << false << QString() << none;
    QTest::newRow("v2 numeric event")
        << Serializer::V2 << QByteArray(R"(["1","2","t",5,{}])") << DecodeResult::InvalidEnvelope
        << true << "t" << QJsonValue("2");
    QTest::newRow("v2 object ref") << Serializer::V2 << QByteArray(R"(["1",{},"t","e",{}])")
                                   << DecodeResult::InvalidEnvelope << false << QString() << none;
    QTest::newRow("v2 numeric join_ref")
        << Serializer::V2 << QByteArray(R"([1,"2","t","e",{}])") << DecodeResult::InvalidEnvelope
        << true << "t" << QJsonValue("2");
    QTest::newRow("v1 array") << Serializer::V1 << QByteArray(R"(["1","1","t","e",{}])")
                              << DecodeResult::InvalidEnvelope << false << QString() << none;
    QTest::newRow("v1 missing payload")
        << Serializer::V1 << QByteArray(R"({"topic":"t","event":"e","ref":"4"})")
        << DecodeResult::InvalidEnvelope << true << "t" << QJsonValue("4");
    QTest::newRow("v1 missing ref")
        << Serializer::V1 << QByteArray(R"({"topic":"t","event":"e","payload":{}})")
        << DecodeResult::InvalidEnvelope << true << "t" << QJsonValue(QJsonValue::Null);
    QTest::newRow("v1 null topic")
        << Serializer::V1 << QByteArray(R"({"topic":null,"event":"e","payload":{},"ref":"1"})")
        << DecodeResult::InvalidEnvelope << false << QString() << none;
    QTest::newRow("v1 numeric event")
        << Serializer::V1 << QByteArray(R"({"topic":"t","event":1,"payload":{},"ref":"1"})")
        << DecodeResult::InvalidEnvelope << true << "t" << QJsonValue("1");
}

void tst_PhoenixCodec::decodeMalformed()
{
    QFETCH(Serializer, serializer);
    QFETCH(QByteArray, text);
    const DecodeResult result = decode(text, serializer);
    QVERIFY(!result.isValid());
    QTEST(result.error, "error");
    QVERIFY(!result.errorString.isEmpty());
    QTEST(result.canReply, "canReply");
    if (result.canReply) {
        QTEST(result.message.topic, "topic");
        QTEST(result.message.ref, "ref");
    }
}

void tst_PhoenixCodec::encode_data()
{
    QTest::addColumn<Serializer>("serializer");
    QTest::addColumn<int>("joinRefKey");
    QTest::addColumn<QByteArray>("expected");

    QTest::newRow("v2")
        << Serializer::V2 << int(JoinRefKey::Omit)
        << QByteArray(
               R"(["5","6","onboarding","phx_reply",{"response":"describe-canoe","status":"ok"}])");
    QTest::newRow("v1 server omits join_ref")
        << Serializer::V1 << int(JoinRefKey::Omit)
        << QByteArray(
               R"({"event":"phx_reply","payload":{"response":"describe-canoe","status":"ok"},"ref":"6","topic":"onboarding"})");
    QTest::newRow("v1 client includes join_ref")
        << Serializer::V1 << int(JoinRefKey::Include)
        << QByteArray(
               R"({"event":"phx_reply","join_ref":"5","payload":{"response":"describe-canoe","status":"ok"},"ref":"6","topic":"onboarding"})");
}

void tst_PhoenixCodec::encode()
{
    QFETCH(Serializer, serializer);
    QFETCH(int, joinRefKey);
    const Message request {QJsonValue("5"), QJsonValue("6"), QStringLiteral("onboarding"),
                           QStringLiteral("GENERATE_NEW_SESSION_NAME"), QJsonObject()};
    const Message reply = request.replyOk(QStringLiteral("describe-canoe"));
    QTEST(Omw::Phoenix::encode(reply, serializer, JoinRefKey(joinRefKey)), "expected");
}

void tst_PhoenixCodec::roundTrip_data()
{
    QTest::addColumn<Serializer>("serializer");
    QTest::newRow("v1") << Serializer::V1;
    QTest::newRow("v2") << Serializer::V2;
}

void tst_PhoenixCodec::roundTrip()
{
    QFETCH(Serializer, serializer);
    const Message broadcast = makeBroadcast(
        QStringLiteral("following:brave-otter"), QStringLiteral("NEW_COORDS"),
        object(
            R"({"heading":null,"latitude":-27.57,"longitude":153.09,"slug":"brave-otter","speed":17.4})"));
    const QByteArray bytes = Omw::Phoenix::encode(broadcast, serializer, JoinRefKey::Include);
    const DecodeResult result = decode(bytes, serializer);
    QVERIFY2(result.isValid(), qPrintable(result.errorString));
    QCOMPARE(result.message, broadcast);
    QVERIFY(result.message.joinRef.isNull());
    QVERIFY(result.message.ref.isNull());
}

void tst_PhoenixCodec::vsn_data()
{
    QTest::addColumn<QString>("vsn");
    QTest::addColumn<bool>("present");
    QTest::addColumn<bool>("supported");
    QTest::addColumn<Serializer>("serializer");

    QTest::newRow("absent") << QString() << false << true << Serializer::V1;
    QTest::newRow("1.0.0") << "1.0.0" << true << true << Serializer::V1;
    QTest::newRow("2.0.0") << "2.0.0" << true << true << Serializer::V2;
    QTest::newRow("2.0.1") << "2.0.1" << true << true << Serializer::V2;
    QTest::newRow("3.0.0") << "3.0.0" << true << false << Serializer::V1;
    QTest::newRow("2.1.0") << "2.1.0" << true << false << Serializer::V1;
    QTest::newRow("empty") << "" << true << false << Serializer::V1;
    QTest::newRow("2.0") << "2.0" << true << false << Serializer::V1;
}

void tst_PhoenixCodec::vsn()
{
    QFETCH(QString, vsn);
    QFETCH(bool, present);
    QFETCH(bool, supported);
    const std::optional<Serializer> serializer
        = serializerForVsn(present ? std::optional<QString>(vsn) : std::nullopt);
    QCOMPARE(serializer.has_value(), supported);
    if (supported) {
        QTEST(*serializer, "serializer");
    }
}

QTEST_GUILESS_MAIN(tst_PhoenixCodec)
#include "tst_phoenixcodec.moc"
