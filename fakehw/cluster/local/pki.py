"""The certificates and keys of a local cluster, made with `cryptography` (no kubeadm).

One CA signs everything: the API server's serving certificate, a client certificate per
component (its common name and organisation are its Kubernetes user and groups, which RBAC
and the Node authorizer read), and each kubelet's serving and client certificates. The
service-account signing key is a separate RSA pair, as the API server requires.
"""

from __future__ import annotations

import datetime
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
PrivateKey = ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertRequest:
    """What a certificate says: who it is (CN, O) and where it serves (SANs)."""

    name: str
    common_name: str
    organizations: Sequence[str] = ()
    dns_names: Sequence[str] = ()
    ip_addresses: Sequence[str] = ()
    server: bool = False
    client: bool = True


@dataclass
class Authority:
    """A CA key and certificate that signs the cluster's certificates."""

    key: PrivateKey
    certificate: x509.Certificate
    issued: dict[str, tuple[PrivateKey, x509.Certificate]] = field(default_factory=dict)


def _name(common_name: str, organizations: Sequence[str] = ()) -> x509.Name:
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def new_authority(common_name: str = "fakehw-ca") -> Authority:
    """A self-signed CA valid for a year."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(_name(common_name))
        .issuer_name(_name(common_name))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(_ca_usage(), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return Authority(key, certificate)


def _ca_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=False,
        data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
        encipher_only=False, decipher_only=False,
    )


def _leaf_usage() -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True, content_commitment=False, key_encipherment=True,
        data_encipherment=False, key_agreement=False, key_cert_sign=False, crl_sign=False,
        encipher_only=False, decipher_only=False,
    )


def _alternative_names(request: CertRequest) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName(d) for d in request.dns_names]
    names += [x509.IPAddress(ipaddress.ip_address(a)) for a in request.ip_addresses]
    return names


def issue(authority: Authority, request: CertRequest) -> tuple[PrivateKey, x509.Certificate]:
    """Sign a new key pair for `request` and remember it under `request.name`."""
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH] if request.server else []
    usages += [ExtendedKeyUsageOID.CLIENT_AUTH] if request.client else []
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(request.common_name, request.organizations))
        .issuer_name(authority.certificate.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_leaf_usage(), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
    )
    alternative_names = _alternative_names(request)
    if alternative_names:
        builder = builder.add_extension(x509.SubjectAlternativeName(alternative_names),
                                        critical=False)
    certificate = builder.sign(authority.key, hashes.SHA256())
    authority.issued[request.name] = (key, certificate)
    return key, certificate


def key_pem(key: PrivateKey | rsa.RSAPrivateKey) -> bytes:
    """A private key as unencrypted PKCS#8 PEM."""
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def cert_pem(certificate: x509.Certificate) -> bytes:
    """A certificate as PEM."""
    return certificate.public_bytes(serialization.Encoding.PEM)


def write_pair(directory: Path, name: str, key: PrivateKey, certificate: x509.Certificate) -> None:
    """Write `<name>.key` (mode 0600) and `<name>.crt` into `directory`."""
    directory.mkdir(parents=True, exist_ok=True)
    key_path = directory / f"{name}.key"
    key_path.write_bytes(key_pem(key))
    key_path.chmod(0o600)
    (directory / f"{name}.crt").write_bytes(cert_pem(certificate))


def write_service_account_keys(directory: Path) -> None:
    """`sa.key` and `sa.pub`: the pair that signs and verifies service-account tokens."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    (directory / "sa.key").write_bytes(key_pem(key))
    (directory / "sa.key").chmod(0o600)
    (directory / "sa.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo,
    ))
