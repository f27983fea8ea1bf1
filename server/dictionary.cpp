#include "dictionary.h"

#include "logging.h"

#include <QFile>
#include <QRandomGenerator>

namespace Omw {

namespace {

QStringList loadBuiltInWords()
{
    QFile file(QStringLiteral(":/omw/bip39-english.txt"));
    if (!file.open(QIODevice::ReadOnly)) {
        qCCritical(lcServer).noquote()
            << "cannot open the built-in word list" << file.fileName() << ":" << file.errorString();
        return {};
    }
    QStringList words;
    words.reserve(2048);
    while (!file.atEnd()) {
        const QString word = QString::fromLatin1(file.readLine()).trimmed();
        if (!word.isEmpty()) {
            words.append(word);
        }
    }
    return words;
}

} // namespace

Dictionary::Dictionary() : m_words(loadBuiltInWords()) { }

Dictionary::Dictionary(QStringList words) : m_words(std::move(words)) { }

QString Dictionary::randomMnemonic(int count) const
{
    Q_ASSERT(count > 0 && count <= m_words.size());
    // Mnemonics are public names, not secrets, so the system generator is good enough; ride
    // tokens use a cryptographic source.
    QRandomGenerator *random = QRandomGenerator::global();
    QList<int> picked;
    picked.reserve(count);
    while (picked.size() < count) {
        const int index = int(random->bounded(quint32(m_words.size())));
        if (!picked.contains(index)) {
            picked.append(index);
        }
    }
    QString mnemonic;
    for (int index : picked) {
        if (!mnemonic.isEmpty()) {
            mnemonic += QLatin1Char('-');
        }
        mnemonic += m_words.at(index);
    }
    return mnemonic;
}

double Dictionary::mnemonicCount(int count) const
{
    double total = 1;
    for (int i = 0; i < count; ++i) {
        total *= double(m_words.size() - i);
    }
    return total;
}

} // namespace Omw
