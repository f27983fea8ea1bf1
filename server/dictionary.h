#pragma once

#include <QString>
#include <QStringList>

namespace Omw {

// The BIP-39 English word list (2048 words), from which ride mnemonics are drawn: distinct
// random words joined with '-', such as "brave-otter".
class Dictionary
{
public:
    // Loads the list built into the server (resource :/omw/bip39-english.txt).
    Dictionary();
    explicit Dictionary(QStringList words);

    const QStringList &words() const { return m_words; }
    int size() const { return int(m_words.size()); }

    // Returns `count` distinct random words joined with '-'.
    QString randomMnemonic(int count) const;

    // How many distinct mnemonics of `count` words exist (ordered, without repeats).
    double mnemonicCount(int count) const;

private:
    QStringList m_words;
};

} // namespace Omw
