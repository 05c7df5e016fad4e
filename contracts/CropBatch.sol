// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {AccessControl} from "@openzeppelin/contracts/access/AccessControl.sol";
import {ERC721} from "@openzeppelin/contracts/token/ERC721/ERC721.sol";

/// @title CropBatch
/// @notice One ERC-721 token per crop batch; lifecycle mirrors lib/batches/lifecycle.ts.
contract CropBatch is ERC721, AccessControl {
    bytes32 public constant RELAYER_ROLE = keccak256("RELAYER_ROLE");
    bytes32 public constant FARMER_ROLE = keccak256("FARMER_ROLE");
    bytes32 public constant TRANSPORTER_ROLE = keccak256("TRANSPORTER_ROLE");
    bytes32 public constant INSPECTOR_ROLE = keccak256("INSPECTOR_ROLE");

    uint8 public constant HARVESTED = 0;
    uint8 public constant IN_TRANSIT = 1;
    uint8 public constant STORED = 2;
    uint8 public constant SOLD = 3;
    uint8 public constant CONSUMED = 4;
    uint8 public constant RECALLED = 5;

    uint8 public constant ACTION_SHIP = 0;
    uint8 public constant ACTION_RECEIVE = 1;
    uint8 public constant ACTION_SELL = 2;
    uint8 public constant ACTION_CONSUME = 3;
    uint8 public constant ACTION_RECALL = 4;
    uint8 public constant ACTION_INSPECT = 5;

    struct Batch {
        bytes32 contentHash;
        uint8 state;
    }

    mapping(uint256 tokenId => Batch) private _batches;

    event BatchMinted(uint256 indexed tokenId, address indexed owner, bytes32 contentHash);
    event StateChanged(uint256 indexed tokenId, uint8 from, uint8 to, address indexed actor);
    event BatchRecalled(uint256 indexed tokenId, address indexed actor, string reason);
    event BatchInspected(uint256 indexed tokenId, bool conformant, address indexed actor);
    event EventAnchored(uint256 indexed tokenId, bytes32 indexed eventHash);

    error InvalidTransition(uint256 tokenId, uint8 from, uint8 action);
    error NotAuthorized(uint256 tokenId, address actor, uint8 action);
    error EmptyContentHash(uint256 tokenId);
    error EmptyEventHash(uint256 tokenId);
    error LengthMismatch(uint256 recipients, uint256 tokenIds, uint256 hashes);

    constructor(address admin, address relayer) ERC721("GreenLedger Crop Batch", "CROP") {
        _grantRole(DEFAULT_ADMIN_ROLE, admin);
        _grantRole(RELAYER_ROLE, relayer);
    }

    function mint(address to, uint256 tokenId, bytes32 contentHash) external onlyRole(RELAYER_ROLE) {
        _mintOne(to, tokenId, contentHash);
    }

    function mintBatch(
        address[] calldata to,
        uint256[] calldata tokenIds,
        bytes32[] calldata hashes
    ) external onlyRole(RELAYER_ROLE) {
        uint256 n = to.length;
        if (tokenIds.length != n || hashes.length != n) revert LengthMismatch(n, tokenIds.length, hashes.length);
        for (uint256 i = 0; i < n; ++i) {
            _mintOne(to[i], tokenIds[i], hashes[i]);
        }
    }

    function ship(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        uint8 from = _requireHarvestedOrStored(tokenId, ACTION_SHIP);
        _requireOwnerOrRelayer(owner, tokenId, ACTION_SHIP);
        _setState(tokenId, from, IN_TRANSIT);
    }

    function markReceived(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        uint8 from = _batches[tokenId].state;
        if (from != IN_TRANSIT) revert InvalidTransition(tokenId, from, ACTION_RECEIVE);
        if (_msgSender() != owner && !hasRole(TRANSPORTER_ROLE, _msgSender()) && !hasRole(RELAYER_ROLE, _msgSender())) {
            revert NotAuthorized(tokenId, _msgSender(), ACTION_RECEIVE);
        }
        _setState(tokenId, from, STORED);
    }

    function sell(uint256 tokenId, address buyer) external {
        address owner = _requireOwned(tokenId);
        uint8 from = _requireHarvestedOrStored(tokenId, ACTION_SELL);
        _requireOwnerOrRelayer(owner, tokenId, ACTION_SELL);
        _setState(tokenId, from, SOLD);
        _transfer(owner, buyer, tokenId);
    }

    function consume(uint256 tokenId) external {
        address owner = _requireOwned(tokenId);
        uint8 from = _batches[tokenId].state;
        if (from != SOLD) revert InvalidTransition(tokenId, from, ACTION_CONSUME);
        _requireOwnerOrRelayer(owner, tokenId, ACTION_CONSUME);
        _setState(tokenId, from, CONSUMED);
    }

    function recall(uint256 tokenId, string calldata reason) external {
        address owner = _requireOwned(tokenId);
        uint8 from = _batches[tokenId].state;
        if (from == RECALLED) revert InvalidTransition(tokenId, from, ACTION_RECALL);
        if (_msgSender() != owner && !hasRole(INSPECTOR_ROLE, _msgSender()) && !hasRole(RELAYER_ROLE, _msgSender())) {
            revert NotAuthorized(tokenId, _msgSender(), ACTION_RECALL);
        }
        _setState(tokenId, from, RECALLED);
        emit BatchRecalled(tokenId, _msgSender(), reason);
    }

    function inspect(uint256 tokenId, bool conformant) external {
        _requireOwned(tokenId);
        uint8 from = _batches[tokenId].state;
        if (from > SOLD) revert InvalidTransition(tokenId, from, ACTION_INSPECT);
        if (!hasRole(INSPECTOR_ROLE, _msgSender()) && !hasRole(RELAYER_ROLE, _msgSender())) {
            revert NotAuthorized(tokenId, _msgSender(), ACTION_INSPECT);
        }
        emit BatchInspected(tokenId, conformant, _msgSender());
    }

    /// @notice Anchors the hash of one of the batch's recorded events (a certificate attached, with its file's hash),
    /// so that the event can be checked against the chain; the server relays it for the farmer.
    function anchor(uint256 tokenId, bytes32 eventHash) external onlyRole(RELAYER_ROLE) {
        _requireOwned(tokenId);
        if (eventHash == bytes32(0)) revert EmptyEventHash(tokenId);
        emit EventAnchored(tokenId, eventHash);
    }

    function batchOf(uint256 tokenId) external view returns (address owner, uint8 state, bytes32 contentHash) {
        owner = ownerOf(tokenId);
        Batch storage b = _batches[tokenId];
        return (owner, b.state, b.contentHash);
    }

    function stateOf(uint256 tokenId) external view returns (uint8) {
        _requireOwned(tokenId);
        return _batches[tokenId].state;
    }

    function contentHashOf(uint256 tokenId) external view returns (bytes32) {
        _requireOwned(tokenId);
        return _batches[tokenId].contentHash;
    }

    function supportsInterface(bytes4 interfaceId) public view override(ERC721, AccessControl) returns (bool) {
        return super.supportsInterface(interfaceId);
    }

    // Trust decision: the relayer (the server's hot key) is an operator for every token so that it can
    // relay sales and transfers for gasless farmers; whoever holds RELAYER_ROLE can move any batch.
    function _isAuthorized(address owner, address spender, uint256 tokenId) internal view override returns (bool) {
        return super._isAuthorized(owner, spender, tokenId) || hasRole(RELAYER_ROLE, spender);
    }

    function _mintOne(address to, uint256 tokenId, bytes32 contentHash) private {
        if (contentHash == bytes32(0)) revert EmptyContentHash(tokenId);
        // Plain _mint: a receiver hook on a recipient contract could revert (or re-enter) a whole relayed batch.
        _mint(to, tokenId);
        _batches[tokenId].contentHash = contentHash;
        emit BatchMinted(tokenId, to, contentHash);
    }

    function _setState(uint256 tokenId, uint8 from, uint8 to) private {
        _batches[tokenId].state = to;
        emit StateChanged(tokenId, from, to, _msgSender());
    }

    function _requireHarvestedOrStored(uint256 tokenId, uint8 action) private view returns (uint8 from) {
        from = _batches[tokenId].state;
        if (from != HARVESTED && from != STORED) revert InvalidTransition(tokenId, from, action);
    }

    function _requireOwnerOrRelayer(address owner, uint256 tokenId, uint8 action) private view {
        if (_msgSender() != owner && !hasRole(RELAYER_ROLE, _msgSender())) {
            revert NotAuthorized(tokenId, _msgSender(), action);
        }
    }
}
