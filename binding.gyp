{
  "targets": [
    {
      "target_name": "tsrun_native",
      "sources": [
        "native/addon/addon.cc",
        "native/addon/device_filter.cc",
        "native/addon/seccomp.cc",
        "native/addon/pod_ns.cc",
        "native/addon/idmapped_overlay.cc",
        "native/common/fd.cc"
      ],
      "libraries": [
        "-lseccomp"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "tsrun-init",
      "type": "executable",
      "sources": [
        "native/init/main.cc",
        "native/init/plan.cc",
        "native/init/sync.cc",
        "native/init/fail.cc",
        "native/init/resolve.cc",
        "native/init/rootfs.cc",
        "native/init/hooks.cc",
        "native/init/caps.cc",
        "native/init/process.cc",
        "native/init/console.cc",
        "native/init/procfs.cc",
        "native/init/namespaces.cc",
        "native/init/sealed_exe.cc",
        "native/common/fd.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "ldflags": [
        "-static-libstdc++",
        "-static-libgcc"
      ]
    },
    {
      "target_name": "tsrun-recvtty",
      "type": "executable",
      "sources": [
        "native/tools/recvtty.cc",
        "native/common/fd.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "tsrun-enosys",
      "type": "executable",
      "sources": [
        "native/tools/enosys.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "tsrun-monitor",
      "type": "executable",
      "sources": [
        "native/monitor/main.cc",
        "native/monitor/attach.cc",
        "native/monitor/control.cc",
        "native/monitor/cri_log.cc",
        "native/monitor/loop.cc",
        "native/monitor/spawn_init.cc",
        "native/monitor/util.cc",
        "native/common/fd.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "ldflags": [
        "-static"
      ]
    },
    {
      "target_name": "tsrun-pause",
      "type": "executable",
      "sources": [
        "native/pause/pause.cc"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra",
        "-O2"
      ],
      "ldflags": [
        "-static"
      ]
    }
  ]
}
