import QtQuick
import QtQuick.Layouts
import QtQuick.Controls

// Text field and button to follow a ride by mnemonic or follow link.
RowLayout {
    id: root

    signal followRequested(string text)

    spacing: Theme.spacing

    function submit() {
        const text = field.text.trim()
        if (text.length === 0)
            return
        root.followRequested(text)
        field.clear()
    }

    TextField {
        id: field
        objectName: "followField"
        Layout.fillWidth: true
        placeholderText: qsTr("Mnemonic or follow link")
        selectByMouse: true
        onAccepted: root.submit()
    }
    Button {
        objectName: "followButton"
        text: qsTr("Follow")
        highlighted: true
        enabled: field.text.trim().length > 0
        onClicked: root.submit()
    }
}
