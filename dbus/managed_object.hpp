// InterfacesAdded / InterfacesRemoved for an object under damond's
// ObjectManager (/org/damond1), sent as the object comes and goes.
#pragma once

#include <sdbus-c++/sdbus-c++.h>

namespace damond {

template <typename Object>
void announce_object(Object& object, const char* iface, bool added) {
    try {
        if (added)
            object.emitInterfacesAddedSignal({iface});
        else
            object.emitInterfacesRemovedSignal({iface});
    } catch (const sdbus::Error&) {
        // The connection is going (damond stops): nobody is left to tell.
    }
}

}  // namespace damond
