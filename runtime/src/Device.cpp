//===- Device.cpp - Where sessions run: parsing and listing devices -------===//
//
// Part of nlc, the Nested Learning Compiler.
//
//===----------------------------------------------------------------------===//

#include "nlrt/Session.h"

#include "CudaDriver.h"

using namespace nlrt;

bool nlrt::parseDevice(const std::string &text, Device &out) {
  if (text == "cpu") {
    out = Device::CPU;
    return true;
  }
  // A session uses the first visible GPU; CUDA_VISIBLE_DEVICES chooses
  // which one that is. "cuda:0" is accepted as its explicit name.
  if (text == "cuda" || text == "cuda:0") {
    out = Device::CUDA;
    return true;
  }
  return false;
}

std::vector<std::string> nlrt::listDevices() {
  std::vector<std::string> devices = {"cpu"};
  // Without a driver or a GPU the list is just the CPU: listing is a
  // question, not a request for a device.
  const cuda::Driver *cu = cuda::getDriver(nullptr);
  if (!cu)
    return devices;
  int count = 0;
  if (cu->cuDeviceGetCount(&count) != cuda::CUDA_SUCCESS)
    return devices;
  for (int i = 0; i < count; ++i) {
    cuda::CUdevice device;
    char name[256] = {};
    std::string line = "cuda:" + std::to_string(i);
    if (cu->cuDeviceGet(&device, i) == cuda::CUDA_SUCCESS &&
        cu->cuDeviceGetName(name, sizeof(name) - 1, device) ==
            cuda::CUDA_SUCCESS)
      line += std::string(" ") + name;
    devices.push_back(line);
  }
  return devices;
}
