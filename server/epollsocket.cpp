#include "epollsocket.h"

#include "logging.h"
#include "outgoingframe.h"

#include <QStringDecoder>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

namespace Omw {

namespace {

enum Opcode {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    CloseFrame = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

constexpr qint64 readChunk = 16 * 1024;
constexpr qint64 maxReadPerEvent = 256 * 1024; // then other sockets get their turn

bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    [[maybe_unused]] const QString decoded = decoder.decode(bytes);
    return !decoder.hasError();
}

} // namespace

EpollSocket::EpollSocket(int fd, EpollDispatcher *dispatcher, Listener *listener)
    : m_fd(fd), m_dispatcher(dispatcher), m_listener(listener)
{
    sockaddr_storage address {};
    socklen_t length = sizeof(address);
    if (::getpeername(fd, reinterpret_cast<sockaddr *>(&address), &length) == 0) {
        m_peerAddress.setAddress(reinterpret_cast<sockaddr *>(&address));
        m_peerPort = address.ss_family == AF_INET6
            ? ntohs(reinterpret_cast<sockaddr_in6 *>(&address)->sin6_port)
            : ntohs(reinterpret_cast<sockaddr_in *>(&address)->sin_port);
    }
    m_registered = m_dispatcher->add(m_fd, EPOLLIN | EPOLLRDHUP, this);
}

EpollSocket::~EpollSocket()
{
    if (m_fd >= 0) {
        m_dispatcher->remove(m_fd);
        ::close(m_fd);
    }
}

void EpollSocket::respondAndClose(const QByteArray &response)
{
    m_state = State::Finishing;
    m_input = QByteArray();
    writeBytes(response.constData(), response.size());
    if (bytesToWrite() == 0 && !m_broken) {
        finish();
    }
}

void EpollSocket::acceptUpgrade(const QByteArray &response)
{
    m_state = State::Upgraded;
    writeBytes(response.constData(), response.size());
}

void EpollSocket::startWebSocket()
{
    if (m_state != State::Upgraded) {
        return;
    }
    m_state = State::Open;
    if (!m_input.isEmpty()) {
        processFrames();
    }
}

void EpollSocket::handleEvents(std::uint32_t events)
{
    if (m_state == State::Closed) {
        return;
    }
    if (events & EPOLLERR) {
        finish();
        return;
    }
    if (events & EPOLLOUT) {
        flush();
        if (m_state == State::Closed) {
            return;
        }
    }
    if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP)) {
        readAvailable();
    }
}

void EpollSocket::readAvailable()
{
    char buffer[readChunk];
    qint64 total = 0;
    while (total < maxReadPerEvent) {
        const ssize_t count = ::recv(m_fd, buffer, sizeof(buffer), 0);
        if (count > 0) {
            total += count;
            if (m_state == State::Finishing || m_state == State::Upgraded) {
                // Nothing more is parsed from a socket whose response is on its way, or not started
                // yet; an upgraded socket keeps the bytes for startWebSocket().
                if (m_state == State::Upgraded) {
                    m_input.append(buffer, count);
                }
                continue;
            }
            m_input.append(buffer, count);
            if (m_state == State::ReadingHead) {
                processHead();
            } else {
                processFrames();
            }
            if (m_state == State::Closed) {
                return;
            }
            continue;
        }
        if (count == 0) {
            finish(); // the peer closed its side
            return;
        }
        if (errno == EINTR) {
            continue;
        }
        if (errno != EAGAIN && errno != EWOULDBLOCK) {
            finish();
        }
        return;
    }
}

void EpollSocket::processHead()
{
    HttpRequestHead head;
    const HttpRequestHead::Status status = HttpRequestHead::parse(m_input, &head);
    if (status == HttpRequestHead::Incomplete) {
        return;
    }
    if (status != HttpRequestHead::Complete) {
        m_listener->requestHeadInvalid(this, status);
        return;
    }
    m_input.remove(0, head.size);
    m_listener->requestHeadReceived(this, head);
}

void EpollSocket::processFrames()
{
    const auto *data = reinterpret_cast<const unsigned char *>(m_input.constData());
    const qint64 size = m_input.size();
    qint64 position = 0;
    while (m_state == State::Open || m_state == State::Closing) {
        const qint64 available = size - position;
        if (available < 2) {
            break;
        }
        const unsigned char *frame = data + position;
        const bool fin = frame[0] & 0x80;
        const int opcode = frame[0] & 0x0F;
        const bool masked = frame[1] & 0x80;
        quint64 length = frame[1] & 0x7F;
        qint64 headerSize = 2;
        if (length == 126) {
            if (available < 4) {
                break;
            }
            length = (quint64(frame[2]) << 8) | frame[3];
            headerSize = 4;
        } else if (length == 127) {
            if (available < 10) {
                break;
            }
            length = 0;
            for (int i = 2; i < 10; ++i) {
                length = (length << 8) | frame[i];
            }
            headerSize = 10;
        }
        if (frame[0] & 0x70) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, "no extension was negotiated");
            return;
        }
        if (!masked) {
            fail(QWebSocketProtocol::CloseCodeProtocolError, "client frames must be masked");
            return;
        }
        const bool control = opcode & 0x8;
        if (control) {
            if (!fin || length > 125) {
                fail(QWebSocketProtocol::CloseCodeProtocolError, "invalid control frame");
                return;
            }
            if (opcode != CloseFrame && opcode != Ping && opcode != Pong) {
                fail(QWebSocketProtocol::CloseCodeProtocolError, "unknown opcode");
                return;
            }
        } else {
            if (opcode != Continuation && opcode != Text && opcode != Binary) {
                fail(QWebSocketProtocol::CloseCodeProtocolError, "unknown opcode");
                return;
            }
            if ((opcode == Continuation) != (m_messageOpcode != 0)) {
                fail(QWebSocketProtocol::CloseCodeProtocolError, "unexpected continuation");
                return;
            }
            if (length > quint64(m_maxMessageSize)
                || qint64(length) + m_message.size() > m_maxMessageSize) {
                fail(QWebSocketProtocol::CloseCodeTooMuchData, "message too large");
                return;
            }
        }
        headerSize += 4;
        if (available < headerSize + qint64(length)) {
            break; // wait for the rest of the frame
        }
        const unsigned char *mask = frame + headerSize - 4;
        const unsigned char *payload = frame + headerSize;
        QByteArray bytes(qsizetype(length), Qt::Uninitialized);
        char *out = bytes.data();
        for (quint64 i = 0; i < length; ++i) {
            out[i] = char(payload[i] ^ mask[i & 3]);
        }
        position += headerSize + qint64(length);

        if (control) {
            if (opcode == CloseFrame) {
                if (bytes.size() == 1) {
                    fail(QWebSocketProtocol::CloseCodeProtocolError, "close frame of one byte");
                    return;
                }
                int code = QWebSocketProtocol::CloseCodeNormal;
                if (bytes.size() >= 2) {
                    code = (static_cast<unsigned char>(bytes.at(0)) << 8)
                        | static_cast<unsigned char>(bytes.at(1));
                }
                if (m_state == State::Open) {
                    // The peer closes first: its code is the connection's, and ours echoes it.
                    m_closeCode = bytes.size() >= 2 ? code : QWebSocketProtocol::CloseCodeNormal;
                    m_closeReason = QString::fromUtf8(bytes.mid(2));
                    // Codes such as 1005 and 1006 only describe a close and must never be sent.
                    const bool sendable = (code >= 1000 && code <= 1003)
                        || (code >= 1007 && code <= 1011) || (code >= 3000 && code <= 4999);
                    sendClose(sendable ? m_closeCode : QWebSocketProtocol::CloseCodeProtocolError,
                              QByteArray());
                    m_state = State::Finishing;
                    if (bytesToWrite() == 0) {
                        finish();
                    }
                } else {
                    finish();
                }
                return;
            }
            if (opcode == Ping) {
                writeFrame(Pong, bytes.constData(), bytes.size());
            }
            if (m_handler) {
                m_handler->controlFrameReceived();
            }
            continue;
        }

        if (m_state != State::Open) {
            continue; // data after our close frame is dropped
        }
        if (m_messageOpcode == 0 && !fin) {
            m_messageOpcode = opcode;
            m_message = bytes;
            continue;
        }
        int messageOpcode = opcode;
        if (m_messageOpcode != 0) {
            m_message.append(bytes);
            if (!fin) {
                continue;
            }
            messageOpcode = m_messageOpcode;
            bytes = std::move(m_message);
            m_message = QByteArray();
            m_messageOpcode = 0;
        }
        if (messageOpcode == Text) {
            if (!isValidUtf8(bytes)) {
                fail(QWebSocketProtocol::CloseCodeWrongDatatype, "text is not valid UTF-8");
                return;
            }
            if (m_handler) {
                m_handler->textMessageReceived(bytes);
            }
        } else if (m_handler) {
            m_handler->binaryMessageReceived();
        }
        if (m_state == State::Closed) {
            return;
        }
    }
    if (m_state == State::Closed) {
        return;
    }
    if (position >= m_input.size()) {
        m_input = QByteArray(); // no buffer is kept while idle
    } else if (position > 0) {
        m_input.remove(0, position);
    }
}

void EpollSocket::sendText(const QByteArray &utf8)
{
    if (m_state != State::Open) {
        return;
    }
    writeFrame(Text, utf8.constData(), utf8.size());
}

void EpollSocket::sendFrame(const OutgoingFrame &frame, Phoenix::Serializer serializer)
{
    if (m_state != State::Open) {
        return;
    }
    const QByteArray &bytes = frame.wireFrame(serializer);
    writeBytes(bytes.constData(), bytes.size());
}

void EpollSocket::writeFrame(int opcode, const char *payload, qint64 size)
{
    char header[10];
    qint64 headerSize = 2;
    header[0] = char(0x80 | opcode);
    if (size < 126) {
        header[1] = char(size);
    } else if (size <= 0xFFFF) {
        header[1] = char(126);
        header[2] = char(size >> 8);
        header[3] = char(size);
        headerSize = 4;
    } else {
        header[1] = char(127);
        for (int i = 0; i < 8; ++i) {
            header[2 + i] = char(quint64(size) >> (56 - 8 * i));
        }
        headerSize = 10;
    }
    if (m_broken) {
        return;
    }
    if (bytesToWrite() > 0) {
        m_pending.append(header, headerSize);
        m_pending.append(payload, size);
        return;
    }
    iovec parts[2] = {{header, size_t(headerSize)}, {const_cast<char *>(payload), size_t(size)}};
    msghdr message {};
    message.msg_iov = parts;
    message.msg_iovlen = 2;
    ssize_t sent = ::sendmsg(m_fd, &message, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            breakConnection();
            return;
        }
        sent = 0;
    }
    if (sent < headerSize) {
        m_pending.append(header + sent, headerSize - sent);
        m_pending.append(payload, size);
    } else if (sent < headerSize + size) {
        m_pending.append(payload + (sent - headerSize), size - (sent - headerSize));
    }
    updateEvents();
}

void EpollSocket::writeBytes(const char *data, qint64 size)
{
    if (m_broken) {
        return;
    }
    if (bytesToWrite() > 0) {
        m_pending.append(data, size);
        return;
    }
    ssize_t sent = ::send(m_fd, data, size_t(size), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (sent < 0) {
        if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            breakConnection();
            return;
        }
        sent = 0;
    }
    if (sent < size) {
        m_pending.append(data + sent, size - sent);
        updateEvents();
    }
}

void EpollSocket::flush()
{
    while (bytesToWrite() > 0) {
        const ssize_t sent = ::send(m_fd, m_pending.constData() + m_pendingOffset,
                                    size_t(bytesToWrite()), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN && errno != EWOULDBLOCK) {
                breakConnection();
            }
            break;
        }
        m_pendingOffset += sent;
    }
    if (bytesToWrite() == 0) {
        m_pending = QByteArray();
        m_pendingOffset = 0;
        if (m_state == State::Finishing && !m_broken) {
            finish();
            return;
        }
    } else if (m_pendingOffset > m_pending.size() / 2) {
        m_pending.remove(0, m_pendingOffset);
        m_pendingOffset = 0;
    }
    updateEvents();
}

void EpollSocket::updateEvents()
{
    const bool wanted = bytesToWrite() > 0 && !m_broken;
    if (wanted == m_writeEventEnabled || m_fd < 0) {
        return;
    }
    m_writeEventEnabled = wanted;
    m_dispatcher->modify(m_fd, EPOLLIN | EPOLLRDHUP | (wanted ? EPOLLOUT : 0u), this);
}

void EpollSocket::sendClose(int code, const QByteArray &reason)
{
    QByteArray payload;
    payload.append(char(code >> 8));
    payload.append(char(code & 0xFF));
    payload.append(reason.left(123));
    writeFrame(CloseFrame, payload.constData(), payload.size());
}

void EpollSocket::close(QWebSocketProtocol::CloseCode code, const QString &reason)
{
    if (m_state != State::Open && m_state != State::Upgraded) {
        return;
    }
    m_closeCode = code;
    m_closeReason = reason;
    sendClose(code, reason.toUtf8());
    m_state = State::Closing;
}

void EpollSocket::fail(int code, const char *reason)
{
    qCInfo(lcConnection).nospace() << "WebSocket from " << m_peerAddress.toString()
                                   << " failed: " << reason << ", closing with " << code;
    m_closeCode = code;
    m_closeReason = QString::fromLatin1(reason);
    sendClose(code, QByteArray(reason));
    m_state = State::Finishing;
    m_input = QByteArray();
    if (bytesToWrite() == 0) {
        finish();
    }
}

void EpollSocket::abort()
{
    breakConnection();
}

void EpollSocket::breakConnection()
{
    // The hang-up comes back through epoll, so no handler is called from inside a send.
    if (m_broken || m_fd < 0) {
        return;
    }
    m_broken = true;
    ::shutdown(m_fd, SHUT_RDWR);
    m_pending = QByteArray();
    m_pendingOffset = 0;
    m_writeEventEnabled = true; // forces the update below
    updateEvents();
}

void EpollSocket::finish()
{
    if (m_state == State::Closed) {
        return;
    }
    const State previous = m_state;
    m_state = State::Closed;
    if (m_fd >= 0) {
        m_dispatcher->remove(m_fd);
        ::close(m_fd);
        m_fd = -1;
    }
    m_input = QByteArray();
    m_message = QByteArray();
    m_pending = QByteArray();
    m_pendingOffset = 0;
    if (previous == State::ReadingHead || (previous == State::Finishing && !m_handler)) {
        m_listener->closedBeforeUpgrade(this);
    } else if (m_handler) {
        m_handler->transportClosed();
    } else {
        m_listener->closedBeforeUpgrade(this);
    }
}

} // namespace Omw
