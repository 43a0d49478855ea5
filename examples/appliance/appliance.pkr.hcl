# A small lab appliance, built like a full one: Packer's QEMU builder boots the source disk
# (direct kernel boot, software emulation), shell provisioners 01..05 configure it, 99 cleans up,
# and the disk is compacted with compression. warmrun passes source_image, kernel and initrd
# (sourceFiles), and a throwaway SSH key made for each build (ssh_private_key_file, ssh_public_key).

variable "source_image" {
  type = string
}
variable "kernel" {
  type = string
}
variable "initrd" {
  type = string
}
variable "ssh_private_key_file" {
  type = string
}
variable "ssh_public_key" {
  type = string
}
variable "cleanup" {
  type    = bool
  default = true
}
variable "zero_fill" {
  type    = bool
  default = false
}
variable "compression" {
  type    = bool
  default = true
}
variable "lab_name" {
  type    = string
  default = "hedgehog-lab"
}

source "qemu" "appliance" {
  disk_image         = true
  iso_url            = var.source_image
  iso_checksum       = "none"
  disk_size          = "1536M"
  format             = "qcow2"
  vm_name            = "appliance.qcow2"
  output_directory   = "output"
  accelerator        = "tcg"
  headless           = true
  memory             = 1024
  cpus               = 1
  disk_interface     = "virtio"
  net_device         = "virtio-net"
  disk_discard       = "unmap"
  disk_detect_zeroes = "unmap"
  disk_compression   = var.compression
  qemuargs = [
    ["-kernel", var.kernel],
    ["-initrd", var.initrd],
    ["-append", "root=/dev/vda rw console=ttyS0 quiet warmrun.sshkey=${split(" ", var.ssh_public_key)[1]}"],
    ["-serial", "file:serial.log"],
  ]
  communicator         = "ssh"
  ssh_username         = "root"
  ssh_private_key_file = var.ssh_private_key_file
  ssh_timeout          = "10m"
  shutdown_command     = "systemctl poweroff"
}

build {
  sources = ["source.qemu.appliance"]

  provisioner "shell" {
    environment_vars = ["LAB_NAME=${var.lab_name}"]
    scripts = [
      "scripts/01-base.sh",
      "scripts/02-users.sh",
      "scripts/03-services.sh",
      "scripts/04-app.sh",
      "scripts/05-tuning.sh",
    ]
  }

  provisioner "shell" {
    environment_vars = ["CLEANUP=${var.cleanup}", "ZERO_FILL=${var.zero_fill}"]
    script           = "scripts/99-cleanup.sh"
  }

  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = false
  }
}
