import QtQuick
import QtQuick.Controls
import Omw.Console.Core

// The rides beside the map, one RideCard each. Selecting a ride sets the model's
// selectedSlug and emits rideActivated().
ListView {
    id: root

    required property RideModel rides

    signal rideActivated(string slug)
    signal removeRequested(string slug)

    model: root.rides
    clip: true
    boundsBehavior: Flickable.StopAtBounds
    currentIndex: root.rides.indexOf(root.rides.selectedSlug)
    ScrollBar.vertical: ScrollBar {}

    // Qt 6.4's linter reports ids of the enclosing file as unqualified inside a delegate;
    // the lookups are valid at run time.
    delegate: RideCard {
        id: card
        width: ListView.view.width
        onActivated: {
            root.rides.selectedSlug = card.slug // qmllint disable unqualified
            root.rideActivated(card.slug) // qmllint disable unqualified
        }
        onRemoveRequested: root.removeRequested(card.slug) // qmllint disable unqualified
    }

    Label {
        anchors.centerIn: parent
        width: parent.width - 40
        visible: root.count === 0
        horizontalAlignment: Text.AlignHCenter
        wrapMode: Text.WordWrap
        color: Theme.textMuted
        text: qsTr("No rides yet.\nType a ride's mnemonic or paste its follow link above.")
    }
}
