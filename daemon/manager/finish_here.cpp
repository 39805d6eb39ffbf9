#include "manager/finish_here.hpp"

#include <memory>

namespace damond {

void finish_here(const std::function<void(std::function<void(std::exception_ptr)>)>& start, const Turn& turn) {
    struct End {
        bool finished = false;
        std::exception_ptr error;
    };
    // Shared: a `done` kept past an error thrown here must not write to a
    // finished frame.
    auto end = std::make_shared<End>();
    start([end](std::exception_ptr error) {
        end->error = error;
        end->finished = true;
    });
    while (!end->finished) turn();
    if (end->error) std::rethrow_exception(end->error);
}

}  // namespace damond
